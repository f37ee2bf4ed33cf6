import { Module } from '@nestjs/common';
import { RouteModule } from '../route/route.module';
import { RedirectFastPath } from './fast-path';
import { RedirectController } from './redirect.controller';
import { RedirectService } from './redirect.service';

/** HTTP 307 redirects to the chosen region (DESIGN §9); GET and HEAD take the fast path first (fast-path.ts). */
@Module({ imports: [RouteModule], controllers: [RedirectController], providers: [RedirectService, RedirectFastPath] })
export class RedirectModule {}
