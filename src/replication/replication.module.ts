import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { PromotionNotifier } from './notification.sender';
import { PromotionScheduler } from './promotion.scheduler';
import { PromotionService } from './promotion.service';
import { ReplicationStateModule } from './replication-state.module';
import { ReplicationController } from './replication.controller';
import { ReplicationService } from './replication.service';

/**
 * Replication-aware routing (DESIGN §9b): lag reports from health webhooks, read eligibility fed
 * into the snapshot, automatic and manual promotion with signed notifications, and the API
 * (GET /v1/services/{fqdn}/replication, POST /v1/services/{fqdn}/promote).
 */
@Module({
  imports: [ReplicationStateModule, HealthModule],
  controllers: [ReplicationController],
  providers: [ReplicationService, PromotionService, PromotionScheduler, PromotionNotifier],
})
export class ReplicationModule {}
