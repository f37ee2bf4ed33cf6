import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthService } from '../health/health.service';
import { choosePromotion, promotionDue } from '../routing/replication';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { replicatedServices } from './lag.store';
import { PromotionFacts } from './promotion-facts';
import { PromotionService } from './promotion.service';

/** How often automatic services are checked for a failed primary. */
export const PROMOTION_TICK_MS = 250;
/** After an attempt that promoted nothing (another instance won, or the database failed), wait this long. */
export const PROMOTION_RETRY_MS = 3000;

/**
 * Automatic promotion: every PROMOTION_TICK_MS, each active-passive service with promotion
 * 'automatic' whose primary has been unhealthy for promotionDelaySeconds (since its last health
 * transition) gets the replica choosePromotion picks. Deciding uses memory only (snapshot, health,
 * lag store); only a promotion touches the database, and its conditional update makes it happen
 * once across instances. When no replica qualifies, the reason is logged once per outage and the
 * check repeats until one does or the primary recovers.
 */
@Injectable()
export class PromotionScheduler implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('replication');
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly inFlight = new Set<string>();
  /** Services whose last attempt promoted nothing: not before this time. */
  private readonly retryAt = new Map<string, number>();
  /** Outages already reported as "no replica to promote" (service|primary|since). */
  private readonly reported = new Set<string>();

  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly health: HealthService,
    private readonly facts: PromotionFacts,
    private readonly promotions: PromotionService,
  ) {}

  onModuleInit(): void {
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One pass over the automatic services; returns the promotions started (for tests). */
  tick(now = Date.now()): Promise<unknown>[] {
    const started: Promise<unknown>[] = [];
    const snapshot = this.snapshots.current();
    for (const service of replicatedServices(snapshot)) {
      const r = service.replication!;
      if (r.mode !== 'active-passive' || r.promotion !== 'automatic' || r.primary === null) continue;
      const summary = this.health.summary(r.primary);
      const since = summary.since === null ? null : Date.parse(summary.since);
      const due = promotionDue({
        promotion: r.promotion,
        primaryHealth: summary.status,
        unhealthySinceMs: since,
        promotionDelaySeconds: r.promotionDelaySeconds,
        now,
      });
      const outage = `${service.fqdn}|${r.primary}|${summary.since}`;
      if (!due) {
        this.forgetOutagesOf(service.fqdn, outage);
        continue;
      }
      if (this.inFlight.has(service.fqdn) || (this.retryAt.get(service.fqdn) ?? 0) > now) continue;
      const input = this.facts.fromSnapshot(snapshot, service, now);
      if (input === null) continue;
      const choice = choosePromotion(input);
      if (choice.region === null) {
        if (!this.reported.has(outage)) {
          this.reported.add(outage);
          this.logger.error(`service ${service.fqdn}: primary ${r.primary} unhealthy since ${summary.since} (${summary.reason ?? 'no reason'}); ${choice.detail}`);
        }
        continue;
      }
      const unhealthyFor = Math.round((now - (since as number)) / 100) / 10;
      this.inFlight.add(service.fqdn);
      const run = this.promotions
        .promote({
          fqdn: service.fqdn,
          from: r.primary,
          to: choice.region,
          trigger: 'automatic',
          forced: false,
          dataLossWindowMs: choice.lagMs,
          reason:
            `primary ${r.primary} unhealthy for ${unhealthyFor} s (promotionDelaySeconds ${r.promotionDelaySeconds}; ${summary.reason ?? 'no reason given'}); ` +
            `${choice.region} is the healthy replica with the smallest lag (${choice.lagMs} ms)` +
            (service.residency === 'gdpr' ? ` in jurisdiction ${snapshot.regions.get(choice.region)?.jurisdiction}` : ''),
        })
        .then((event) => {
          if (event === null) this.retryAt.set(service.fqdn, now + PROMOTION_RETRY_MS);
          else this.retryAt.delete(service.fqdn);
        })
        .catch((err) => {
          this.retryAt.set(service.fqdn, now + PROMOTION_RETRY_MS);
          this.logger.error(`automatic promotion for ${service.fqdn} failed (next attempt in ${PROMOTION_RETRY_MS / 1000} s): ${(err as Error).message}`);
        })
        .finally(() => this.inFlight.delete(service.fqdn));
      started.push(run);
    }
    return started;
  }

  private forgetOutagesOf(fqdn: string, except: string): void {
    for (const key of this.reported) if (key.startsWith(`${fqdn}|`) && key !== except) this.reported.delete(key);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      try {
        this.tick();
      } catch (err) {
        this.logger.error(`promotion check failed: ${(err as Error).message}`);
      }
      this.schedule();
    }, PROMOTION_TICK_MS);
    this.timer.unref();
  }
}
