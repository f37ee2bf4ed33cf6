import { Module } from '@nestjs/common';
import { AnycastController } from './anycast.controller';
import { AnycastService } from './anycast.service';

/** The anycast what-if API over the pure BGP simulator in src/routing/bgp. */
@Module({ controllers: [AnycastController], providers: [AnycastService], exports: [AnycastService] })
export class AnycastModule {}
