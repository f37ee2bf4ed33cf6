import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { WebhookController } from './webhook.controller';
import { WebhookService } from './webhook.service';

/** Region health: probes, signed webhooks, heartbeats, the state machine, stored transitions. */
@Module({
  imports: [RegistryModule],
  controllers: [HealthController, WebhookController],
  providers: [HealthService, WebhookService],
  exports: [HealthService],
})
export class HealthModule {}
