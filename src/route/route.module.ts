import { Module } from '@nestjs/common';
import { RouteController } from './route.controller';
import { RouteService } from './route.service';

/** The explain API: the same engine as DNS, with the reason and every candidate. */
@Module({ controllers: [RouteController], providers: [RouteService], exports: [RouteService] })
export class RouteModule {}
