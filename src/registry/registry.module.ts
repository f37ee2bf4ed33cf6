import { Module } from '@nestjs/common';
import { ZonesController } from './zones.controller';
import { RegionsController } from './regions.controller';
import { ServicesController } from './services.controller';
import { ZonesService } from './zones.service';
import { RegionsService } from './regions.service';
import { ServicesService } from './services.service';
import { ConfigLoaderService } from './config-loader.service';
import { ConfigSyncService } from './config-sync.service';
import { ConfigController } from './config.controller';
import { ZoneImportController } from './zone-import.controller';
import { ZoneImportService } from './zone-import.service';
import { DnssecController } from './dnssec.controller';
import { DnssecService } from './dnssec.service';

/** Zones (with static records), regions and services: the operator's registry, stored in PostgreSQL. */
@Module({
  controllers: [ZonesController, RegionsController, ServicesController, ConfigController, ZoneImportController, DnssecController],
  providers: [ZonesService, RegionsService, ServicesService, ConfigLoaderService, ConfigSyncService, ZoneImportService, DnssecService],
  exports: [ZonesService, RegionsService, ServicesService, ConfigLoaderService],
})
export class RegistryModule {}
