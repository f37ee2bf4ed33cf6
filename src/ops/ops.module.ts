import { Global, Module } from '@nestjs/common';
import { OpsController } from './ops.controller';
import { ReadinessService } from './readiness.service';

@Global()
@Module({ controllers: [OpsController], providers: [ReadinessService], exports: [ReadinessService] })
export class OpsModule {}
