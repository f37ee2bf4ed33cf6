import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError, ErrorCode } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { HealthService } from '../health/health.service';
import { RegionEntity } from '../registry/region.entity';
import { EventBus, REGISTRY_CHANGED } from '../common/events';
import { ServiceEntity } from '../registry/service.entity';
import { jurisdictionOf } from '../routing/jurisdiction';
import {
  assessPromotionTarget, isForceable, lagReportMaxAgeMs, type PromotionInput, type PromotionRegion,
} from '../routing/replication';
import type { RoutingSnapshot, ServiceSnap } from '../routing/types';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { ReplicationLagStore } from './lag.store';
import { PromotionNotifier } from './notification.sender';
import { PromotionEventView, PromotionRow, toPromotionView } from './promotion.types';

export interface PromotionRequest {
  readonly fqdn: string;
  readonly from: string;
  readonly to: string;
  readonly trigger: 'automatic' | 'manual';
  readonly forced: boolean;
  readonly dataLossWindowMs: number | null;
  readonly reason: string;
}

/**
 * Makes a replica the primary of an active-passive service, exactly once however many instances
 * try: one transaction whose conditional update
 *   UPDATE services SET replication = jsonb_set(replication, '{primary}', $to)
 *    WHERE fqdn = $1 AND replication->>'primary' = $from
 * succeeds for one of them (PostgreSQL re-checks the WHERE after a concurrent commit, so the
 * others update no row). The winner, in the same transaction, records the promotion event, forgets
 * the old primary's lag report (it must report afresh as a replica) and bumps the zone serial;
 * then the snapshot is rebuilt and the operator is notified.
 */
@Injectable()
export class PromotionService {
  private readonly logger = new Logger('replication');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly events: EventBus,
    private readonly snapshots: SnapshotStore,
    private readonly lag: ReplicationLagStore,
    private readonly health: HealthService,
    private readonly notifier: PromotionNotifier,
  ) {}

  /** POST /v1/services/{fqdn}/promote: checks the target (force overrides the safety checks) and promotes it. */
  async promoteManually(fqdnIn: string, region: string, force: boolean): Promise<PromotionEventView> {
    const fqdn = normalizeName(fqdnIn);
    const service = await this.ds.manager.findOneBy(ServiceEntity, { fqdn });
    if (!service) throw DomainError.notFound('service', fqdn);
    const r = service.replication;
    if (r?.mode !== 'active-passive' || r.primary === null) {
      throw DomainError.conflict(`service "${fqdn}" is not active-passive (replication mode ${r?.mode ?? 'none'}): it has no primary to replace`);
    }
    if (!service.regions.includes(region)) throw DomainError.field('region', 'service-region', `region "${region}" is not one of the service's regions`);
    await this.lag.sync(); // reports received by other instances count too
    const input = await this.inputFromDatabase(service, r.primary, r.maxStalenessMs, Date.now());
    const verdict = assessPromotionTarget(input, region);
    if (verdict.refusal !== null && (!force || !isForceable(verdict.refusal))) {
      const hint = isForceable(verdict.refusal) ? '; send "force": true to promote it anyway' : '';
      throw new DomainError(ErrorCode.Conflict, `cannot promote ${region}: ${verdict.detail}${hint}`, [], { reason: verdict.refusal, region });
    }
    const reason =
      verdict.refusal === null
        ? `manual promotion of ${region} (lag ${verdict.lagMs} ms)`
        : `manual promotion of ${region}, forced past: ${verdict.detail}`;
    const event = await this.promote({
      fqdn,
      from: r.primary,
      to: region,
      trigger: 'manual',
      forced: verdict.refusal !== null,
      dataLossWindowMs: verdict.lagMs,
      reason,
    });
    if (event === null) {
      const now = await this.ds.manager.findOneBy(ServiceEntity, { fqdn });
      throw DomainError.conflict(`the primary of "${fqdn}" changed meanwhile (now ${now?.replication?.primary ?? 'unknown'}); nothing was promoted`);
    }
    return event;
  }

  /**
   * The one promotion transaction. Returns the event, or null when the primary is no longer
   * `from` (another instance, or a concurrent request, promoted first).
   */
  async promote(req: PromotionRequest): Promise<PromotionEventView | null> {
    const outcome = await this.ds.transaction(async (m) => {
      const updated = rowsOf<{ zone_name: string; notify_url: string | null; notify_secret: string | null; write_fqdn: string | null }>(
        await m.query(
          `UPDATE services SET replication = jsonb_set(replication, '{primary}', to_jsonb($2::text)), updated_at = now()
            WHERE fqdn = $1 AND replication->>'mode' = 'active-passive' AND replication->>'primary' = $3
          RETURNING zone_name, replication->>'notifyUrl' AS notify_url, replication->>'notifySecret' AS notify_secret, replication->>'writeFqdn' AS write_fqdn`,
          [req.fqdn, req.to, req.from],
        ),
      );
      if (updated.length !== 1) return null;
      const svc = updated[0];
      await m.query('DELETE FROM replication_lag WHERE service = $1 AND region = $2', [req.fqdn, req.from]);
      await m.query('UPDATE zones SET serial = serial + 1, updated_at = now() WHERE name = $1', [svc.zone_name]);
      const [row] = rowsOf<PromotionRow>(
        await m.query(
          `INSERT INTO replication_promotions (service, from_region, to_region, trigger, forced, data_loss_window_ms, reason, instance, notify_url)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
          [req.fqdn, req.from, req.to, req.trigger, req.forced, req.dataLossWindowMs, req.reason.slice(0, 2000), this.config.instanceId, svc.notify_url],
        ),
      );
      return { event: toPromotionView(row), notify: svc };
    });
    if (outcome === null) {
      this.logger.log(`promotion of ${req.to} for ${req.fqdn} not made: the primary is no longer ${req.from}`);
      return null;
    }
    const { event, notify } = outcome;
    this.lag.forget(req.fqdn, req.from);
    this.logger.warn(
      `service ${req.fqdn}: promoted ${req.to} (was ${req.from}; ${req.trigger}${req.forced ? ', forced' : ''}; data-loss window ${req.dataLossWindowMs ?? 'unknown'} ms): ${req.reason}`,
    );
    this.events.emit(REGISTRY_CHANGED, { kind: 'service', name: req.fqdn });
    await this.snapshots.requestRebuild({ reload: true });
    if (notify.notify_url !== null && notify.notify_secret !== null) {
      void this.notifier.send(event, notify.notify_url, notify.notify_secret, notify.write_fqdn);
    }
    return event;
  }

  /** Promotion facts from the current snapshot and the lag store (no database: the scheduler's path). */
  inputFromSnapshot(snapshot: RoutingSnapshot, service: ServiceSnap, now: number): PromotionInput | null {
    const r = service.replication;
    if (r?.mode !== 'active-passive' || r.primary === null) return null;
    const regions: PromotionRegion[] = [];
    for (const member of r.members) {
      const region = snapshot.regions.get(member.region);
      if (region === undefined) continue;
      const lag = this.lag.lagOf(service.fqdn, member.region);
      regions.push({
        region: member.region,
        jurisdiction: region.jurisdiction,
        health: this.health.statusOf(member.region)?.status ?? region.health,
        drained: region.drained,
        lagMs: lag?.lagMs ?? null,
        reportedAtMs: lag?.reportedAtMs ?? null,
        maxReportAgeMs: member.maxReportAgeMs,
      });
    }
    return { primary: r.primary, residency: service.residency, maxStalenessMs: r.maxStalenessMs, regions, now };
  }

  /** Promotion facts from the database rows (the manual path and the replication view). */
  async inputFromDatabase(service: ServiceEntity, primary: string, maxStalenessMs: number | null, now: number): Promise<PromotionInput> {
    const rows = await this.ds.manager.find(RegionEntity, { where: { name: In(service.regions) } });
    const byName = new Map(rows.map((x) => [x.name, x]));
    const regions: PromotionRegion[] = [];
    for (const name of service.regions) {
      const row = byName.get(name);
      if (row === undefined) continue;
      const lag = this.lag.lagOf(service.fqdn, name);
      regions.push({
        region: name,
        jurisdiction: jurisdictionOf(row.countryCode),
        health: this.health.statusOf(name)?.status ?? 'unknown',
        drained: row.drained,
        lagMs: lag?.lagMs ?? null,
        reportedAtMs: lag?.reportedAtMs ?? null,
        maxReportAgeMs: lagReportMaxAgeMs(row.heartbeatTimeoutSeconds),
      });
    }
    return { primary, residency: service.residency, maxStalenessMs, regions, now };
  }
}

/** TypeORM answers UPDATE/DELETE with [rows, count] and other statements with rows. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
