import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { ReplicationLagStore } from './lag.store';
import { PromotionNotifier } from './notification.sender';
import { PromotionFacts } from './promotion-facts';
import { PromotionScheduler } from './promotion.scheduler';
import { PromotionService } from './promotion.service';
import { ReplicationController } from './replication.controller';
import { ReplicationRepository } from './replication.repository';
import { ReplicationService } from './replication.service';

/**
 * Replication-aware routing (DESIGN §9b): lag reports from health webhooks (the replication.lag-reported
 * event), read eligibility fed into the snapshot, automatic and manual promotion with signed
 * notifications, and the API (GET /v1/services/{fqdn}/replication, POST /v1/services/{fqdn}/promote).
 */
@Module({
  imports: [HealthModule],
  controllers: [ReplicationController],
  providers: [ReplicationLagStore, ReplicationRepository, PromotionFacts, ReplicationService, PromotionService, PromotionScheduler, PromotionNotifier],
})
export class ReplicationModule {}
