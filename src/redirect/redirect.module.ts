import { Module } from '@nestjs/common';
import { RouteModule } from '../route/route.module';
import { RedirectController } from './redirect.controller';
import { RedirectService } from './redirect.service';

/** HTTP 307 redirects to the chosen region (DESIGN §9). */
@Module({ imports: [RouteModule], controllers: [RedirectController], providers: [RedirectService] })
export class RedirectModule {}
