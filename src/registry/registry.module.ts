import { Module } from '@nestjs/common';
import { ZonesController } from './zones.controller';
import { RegionsController } from './regions.controller';
import { ServicesController } from './services.controller';
import { ZonesService } from './zones.service';
import { RegionsService } from './regions.service';
import { ServicesService } from './services.service';
import { ConfigLoaderService } from './config-loader.service';

/** Zones (with static records), regions and services: the operator's registry, stored in PostgreSQL. */
@Module({
  controllers: [ZonesController, RegionsController, ServicesController],
  providers: [ZonesService, RegionsService, ServicesService, ConfigLoaderService],
  exports: [ZonesService, RegionsService, ServicesService, ConfigLoaderService],
})
export class RegistryModule {}
