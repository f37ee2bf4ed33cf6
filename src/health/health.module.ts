import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HealthRepository } from './health.repository';
import { HealthService } from './health.service';
import { WebhookController } from './webhook.controller';
import { WebhookTrust } from './webhook-trust';
import { WebhookService } from './webhook.service';

/** Region health: probes, signed webhooks, heartbeats, the state machine, stored transitions. */
@Module({
  controllers: [HealthController, WebhookController],
  providers: [HealthService, HealthRepository, WebhookService, WebhookTrust],
  exports: [HealthService],
})
export class HealthModule {}
