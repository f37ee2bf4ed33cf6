import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { EventBus, LagReport, LagReportedEvent, OnAppEvent, REPLICATION_CHANGED, REPLICATION_LAG_REPORTED } from '../common/events';
import { replicaStaleness } from '../routing/replication';
import type { RoutingSnapshot, ServiceSnap } from '../routing/types';
import { ReplicationLagSource, SnapshotStore } from '../snapshot/snapshot.store';
import { ReplicationRepository } from './replication.repository';

/** How often the read eligibility of every replica is re-checked (reports age out with time). */
export const LAG_TICK_MS = 250;
/** How often lag reports received by other instances are read from the database. */
export const LAG_SYNC_INTERVAL_MS = 2000;
/**
 * A lag change that changes no read eligibility reaches the snapshot (and so the lag the explain
 * API shows) at most this often: each rebuild empties the DNS answer cache.
 */
export const LAG_REFRESH_MS = 5000;

export interface StoredLag {
  readonly lagMs: number;
  /** When this instance (or another, through the database) received the report. */
  readonly reportedAtMs: number;
}

/**
 * The last replication lag each region reported for each replicated service. Reports arrive in
 * health webhooks (the webhook service emits replication.lag-reported for each accepted one), are
 * kept in memory for snapshot builds and stored in replication_lag for the other instances (read
 * back every LAG_SYNC_INTERVAL_MS).
 *
 * Eligibility is decided in the snapshot (the engine reads no clock): a ticker compares what the
 * current snapshot says about each replica with what the reports say now, and emits
 * replication.changed when a replica became stale or fresh (a report arrived, or aged out), or,
 * at most every LAG_REFRESH_MS, when only the lag values moved.
 */
@Injectable()
export class ReplicationLagStore implements ReplicationLagSource, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('replication');
  private readonly lags = new Map<string, Map<string, StoredLag>>();
  private tickTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private syncing: Promise<void> | null = null;
  private lastEmitAt = 0;
  private lastEmitVersion = -1;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ReplicationRepository,
    private readonly events: EventBus,
    private readonly snapshots: SnapshotStore,
  ) {}

  async onModuleInit(): Promise<void> {
    this.snapshots.setReplicationSource(this);
    // Without the database (static stability) the periodic sync picks the reports up once it is back.
    if (this.repository.connected) await this.sync();
    this.scheduleTick();
    this.scheduleSync();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.syncTimer) clearTimeout(this.syncTimer);
  }

  /** For the snapshot store: the last report of each region for one service. */
  reportsFor(service: string): readonly { region: string; lagMs: number; reportedAt: string }[] {
    const byRegion = this.lags.get(service);
    if (byRegion === undefined) return [];
    return [...byRegion].map(([region, lag]) => ({ region, lagMs: lag.lagMs, reportedAt: new Date(lag.reportedAtMs).toISOString() }));
  }

  /** Every service a region last reported a lag for (for GET /v1/regions/{name}/health, if the health API shows it). */
  reportsOfRegion(region: string): { service: string; lagMs: number; reportedAt: string }[] {
    const out: { service: string; lagMs: number; reportedAt: string }[] = [];
    for (const [service, byRegion] of this.lags) {
      const lag = byRegion.get(region);
      if (lag !== undefined) out.push({ service, lagMs: lag.lagMs, reportedAt: new Date(lag.reportedAtMs).toISOString() });
    }
    return out.sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The last report of one region for one service, if any. */
  lagOf(service: string, region: string): StoredLag | undefined {
    return this.lags.get(service)?.get(region);
  }

  @OnAppEvent(REPLICATION_LAG_REPORTED)
  onLagReported(event: LagReportedEvent): Promise<void> {
    return this.report(event.region, event.report, event.at);
  }

  /**
   * Records a lag report from an accepted webhook of `region`, received at `now`. Never throws: a
   * report that cannot be stored is logged, and the delivery stays accepted.
   */
  async report(region: string, report: LagReport, now = Date.now()): Promise<void> {
    try {
      const snapshot = this.snapshots.current();
      const rows: { service: string; lagMs: number }[] = [];
      if (report.kind === 'all') {
        for (const service of replicatedServices(snapshot)) if (service.regions.includes(region)) rows.push({ service: service.fqdn, lagMs: report.lagMs });
      } else {
        for (const [fqdn, lagMs] of report.lags) {
          const service = snapshot.services.get(fqdn);
          if (service?.replication === undefined || service.writeOf !== undefined || !service.regions.includes(region)) {
            this.logger.warn(`region ${region} reported replication lag for ${fqdn}, which is not a replicated service of that region: ignored`);
            continue;
          }
          rows.push({ service: fqdn, lagMs });
        }
      }
      if (rows.length === 0) return;
      for (const row of rows) this.remember(row.service, region, { lagMs: row.lagMs, reportedAtMs: now });
      this.check(now, true);
      await this.repository.saveLags(region, rows, new Date(now), this.config.instanceId);
    } catch (err) {
      this.logger.error(`replication lag of region ${region} not stored: ${(err as Error).message}`);
    }
  }

  /** Forgets a region's report for a service (an old primary must report afresh as a replica). */
  forget(service: string, region: string): void {
    this.lags.get(service)?.delete(region);
  }

  /**
   * Reads every stored report (other instances' too). Rows newer than ours replace ours; ours
   * that are gone from the table and older than this read (deleted by a promotion) are dropped.
   */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = (async () => {
      const startedAt = Date.now();
      try {
        const rows = await this.repository.lags();
        const seen = new Set<string>();
        for (const row of rows) {
          seen.add(`${row.service} ${row.region}`);
          const lag = { lagMs: Number(row.lag_ms), reportedAtMs: new Date(row.reported_at).getTime() };
          const mine = this.lagOf(row.service, row.region);
          if (mine === undefined || mine.reportedAtMs < lag.reportedAtMs) this.remember(row.service, row.region, lag);
        }
        for (const [service, byRegion] of this.lags) {
          for (const [region, lag] of byRegion) if (!seen.has(`${service} ${region}`) && lag.reportedAtMs < startedAt - 1000) byRegion.delete(region);
        }
        this.check(Date.now());
      } catch (err) {
        // The database may be unreachable (static stability): keep what we have, try again later.
        this.logger.debug(`replication lag sync failed: ${(err as Error).message}`);
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  /**
   * Compares the current snapshot with the reports as of `now`; asks for a rebuild when a
   * replica's read eligibility differs (at once) or only its lag does (at most every LAG_REFRESH_MS).
   * `fresh`: a report just arrived, so a difference in eligibility is new (never held back).
   */
  check(now: number, fresh = false): void {
    const snapshot = this.snapshots.current();
    const { eligibility, lag } = differences(snapshot, (service, region) => this.lagOf(service, region), now);
    if (!eligibility && !lag) return;
    // A rebuild asked for is on its way: do not ask again for the same snapshot for a while.
    if (!(fresh && eligibility) && snapshot.version === this.lastEmitVersion && now - this.lastEmitAt < 1000) return;
    if (!eligibility && now - this.lastEmitAt < LAG_REFRESH_MS) return;
    this.lastEmitAt = now;
    this.lastEmitVersion = snapshot.version;
    this.events.emit(REPLICATION_CHANGED, { eligibility });
  }

  private remember(service: string, region: string, lag: StoredLag): void {
    let byRegion = this.lags.get(service);
    if (byRegion === undefined) this.lags.set(service, (byRegion = new Map()));
    byRegion.set(region, lag);
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.tickTimer = setTimeout(() => {
      try {
        this.check(Date.now());
      } catch (err) {
        this.logger.error(`replication eligibility check failed: ${(err as Error).message}`);
      }
      this.scheduleTick();
    }, LAG_TICK_MS);
    this.tickTimer.unref();
  }

  private scheduleSync(): void {
    if (this.stopped) return;
    this.syncTimer = setTimeout(() => {
      void this.sync().finally(() => this.scheduleSync());
    }, LAG_SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }
}

/** Services with replication settings (write names excluded). */
export function replicatedServices(snapshot: RoutingSnapshot): ServiceSnap[] {
  const out: ServiceSnap[] = [];
  for (const service of snapshot.services.values()) if (service.replication !== undefined && service.writeOf === undefined) out.push(service);
  return out;
}

/** Whether the snapshot's view of any replica differs from the reports as of `now`: in eligibility, or in lag only. */
export function differences(
  snapshot: RoutingSnapshot,
  lagOf: (service: string, region: string) => StoredLag | undefined,
  now: number,
): { eligibility: boolean; lag: boolean } {
  let eligibility = false;
  let lag = false;
  for (const service of replicatedServices(snapshot)) {
    const replication = service.replication!;
    for (const member of replication.members) {
      const report = lagOf(service.fqdn, member.region);
      const stale = replicaStaleness({
        role: member.role,
        lagMs: report?.lagMs ?? null,
        reportedAtMs: report?.reportedAtMs ?? null,
        maxStalenessMs: replication.maxStalenessMs,
        maxReportAgeMs: member.maxReportAgeMs,
        now,
      });
      if (stale !== member.stale) eligibility = true;
      const reportedAt = report === undefined ? null : new Date(report.reportedAtMs).toISOString();
      if ((report?.lagMs ?? null) !== member.lagMs || reportedAt !== member.reportedAt) lag = true;
    }
  }
  return { eligibility, lag };
}
