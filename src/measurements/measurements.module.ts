import { Module } from '@nestjs/common';
import { BeaconController } from './beacon.controller';
import { LatencyCompiler } from './latency-compiler';
import { MeasurementsController } from './measurements.controller';
import { MeasurementsRepository } from './measurements.repository';
import { MeasurementsService } from './measurements.service';

/**
 * Measured latency (issue 19): RTTs in (the token feed and the RUM beacon), aggregated in
 * PostgreSQL, compiled on a schedule into the routing snapshot's latency table.
 */
@Module({
  controllers: [MeasurementsController, BeaconController],
  providers: [MeasurementsRepository, MeasurementsService, LatencyCompiler],
})
export class MeasurementsModule {}
