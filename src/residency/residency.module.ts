import { Module } from '@nestjs/common';
import { ResidencyController } from './residency.controller';
import { ResidencyService } from './residency.service';

/** The jurisdictions and the replication geofence API; residency in answers lives in the routing engine. */
@Module({ controllers: [ResidencyController], providers: [ResidencyService] })
export class ResidencyModule {}
