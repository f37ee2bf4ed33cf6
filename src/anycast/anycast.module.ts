import { Module } from '@nestjs/common';
import { AnycastController } from './anycast.controller';
import { AnycastRepository } from './anycast.repository';
import { AnycastService } from './anycast.service';

/** The anycast what-if API over the pure BGP simulator in src/routing/bgp. */
@Module({ controllers: [AnycastController], providers: [AnycastRepository, AnycastService], exports: [AnycastService] })
export class AnycastModule {}
