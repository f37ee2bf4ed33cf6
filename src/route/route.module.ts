import { Module } from '@nestjs/common';
import { RouteController } from './route.controller';
import { RouteService } from './route.service';
import { ZoneExportController } from './zone-export.controller';
import { ZoneExportService } from './zone-export.service';

/** The explain API: the same engine as DNS, with the reason and every candidate. */
@Module({ controllers: [RouteController, ZoneExportController], providers: [RouteService, ZoneExportService], exports: [RouteService] })
export class RouteModule {}
