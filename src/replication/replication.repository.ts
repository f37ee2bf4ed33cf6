import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { AuditTrail } from '../common/audit';
import { RegionEntity } from '../registry/region.entity';
import { ServiceEntity } from '../registry/service.entity';
import type { PromotionRequest, PromotionRow } from './promotion.types';

/** One row of replication_lag: a region's last lag report for a service. */
export interface LagRow {
  service: string;
  region: string;
  lag_ms: number | string;
  reported_at: Date | string;
}

/** Where a promotion is announced: the service's notification settings as they were when it was promoted. */
export interface PromotionNotice {
  zone_name: string;
  notify_url: string | null;
  notify_secret: string | null;
  write_fqdn: string | null;
}

/**
 * Every query of the replication module. Tables (migration Replication): replication_lag (the last
 * report per service and region, shared by the instances) and replication_promotions (one row per
 * promotion, with its notification outcome); it also reads services and regions, and a promotion
 * updates the service's primary and its zone's serial.
 */
@Injectable()
export class ReplicationRepository {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditTrail,
  ) {}

  /** Whether the database is connected now (it may not be at start: static stability). */
  get connected(): boolean {
    return this.ds.isInitialized;
  }

  findService(fqdn: string): Promise<ServiceEntity | null> {
    return this.ds.manager.findOneBy(ServiceEntity, { fqdn });
  }

  regionsNamed(names: readonly string[]): Promise<RegionEntity[]> {
    return this.ds.manager.find(RegionEntity, { where: { name: In([...names]) } });
  }

  /** The service's last promotions, newest first. */
  recentPromotions(fqdn: string, limit: number): Promise<PromotionRow[]> {
    return this.ds.query('SELECT * FROM replication_promotions WHERE service = $1 ORDER BY id DESC LIMIT $2', [fqdn, limit]);
  }

  /**
   * Makes `to` the primary, exactly once however many instances try: one transaction whose
   * conditional update (WHERE the primary is still `from`) succeeds for one of them (PostgreSQL
   * re-checks the WHERE after a concurrent commit, so the others update no row). The winner, in
   * the same transaction, forgets the old primary's lag report (it must report afresh as a
   * replica), bumps the zone serial and records the promotion. Null when the primary is no
   * longer `from`.
   */
  promote(change: PromotionRequest, instance: string): Promise<{ row: PromotionRow; notice: PromotionNotice } | null> {
    return this.ds.transaction(async (m) => {
      const updated = rowsOf<PromotionNotice>(
        await m.query(
          `UPDATE services SET replication = jsonb_set(replication, '{primary}', to_jsonb($2::text)), updated_at = now()
            WHERE fqdn = $1 AND replication->>'mode' = 'active-passive' AND replication->>'primary' = $3
          RETURNING zone_name, replication->>'notifyUrl' AS notify_url, replication->>'notifySecret' AS notify_secret, replication->>'writeFqdn' AS write_fqdn`,
          [change.fqdn, change.to, change.from],
        ),
      );
      if (updated.length !== 1) return null;
      const notice = updated[0];
      await m.query('DELETE FROM replication_lag WHERE service = $1 AND region = $2', [change.fqdn, change.from]);
      await m.query('UPDATE zones SET serial = serial + 1, updated_at = now() WHERE name = $1', [notice.zone_name]);
      const [row] = rowsOf<PromotionRow>(
        await m.query(
          `INSERT INTO replication_promotions (service, from_region, to_region, trigger, forced, data_loss_window_ms, reason, instance, notify_url)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
          [change.fqdn, change.from, change.to, change.trigger, change.forced, change.dataLossWindowMs, change.reason.slice(0, 2000), instance, notice.notify_url],
        ),
      );
      await this.audit.record(m, [{
        action: 'promote', kind: 'service', name: change.fqdn,
        before: { primary: change.from },
        after: { primary: change.to, trigger: change.trigger, forced: change.forced, dataLossWindowMs: change.dataLossWindowMs, reason: change.reason },
      }]);
      return { row, notice };
    });
  }

  /** Stores the outcome of a promotion's notification (`delivered` also sets notified_at). */
  async recordNotification(promotionId: number, status: string, delivered: boolean): Promise<void> {
    await this.ds.query(
      `UPDATE replication_promotions SET notify_status = $2, notified_at = CASE WHEN $3 THEN now() ELSE notified_at END WHERE id = $1`,
      [promotionId, status.slice(0, 500), delivered],
    );
  }

  /**
   * Stores a region's lag reports, received at `at` by `instance`. Services or a region that no
   * longer exist are skipped; a stored report is replaced only by a newer one.
   */
  async saveLags(region: string, lags: readonly { service: string; lagMs: number }[], at: Date, instance: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO replication_lag (service, region, lag_ms, reported_at, instance)
       SELECT r.service, $2, r.lag_ms, $3, $4
         FROM unnest($1::text[], $5::float8[]) AS r(service, lag_ms)
        WHERE EXISTS (SELECT 1 FROM services s WHERE s.fqdn = r.service) AND EXISTS (SELECT 1 FROM regions g WHERE g.name = $2)
       ON CONFLICT (service, region) DO UPDATE
         SET lag_ms = EXCLUDED.lag_ms, reported_at = EXCLUDED.reported_at, instance = EXCLUDED.instance
         WHERE replication_lag.reported_at <= EXCLUDED.reported_at`,
      [lags.map((r) => r.service), region, at, instance, lags.map((r) => r.lagMs)],
    );
  }

  /** Every stored lag report (every instance's). */
  lags(): Promise<LagRow[]> {
    return this.ds.query('SELECT service, region, lag_ms, reported_at FROM replication_lag');
  }
}

/** TypeORM answers UPDATE/DELETE with [rows, count] and other statements with rows. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
