import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError } from '../common/domain-error';
import { Page, toPage } from '../common/paging';
import type { HealthStatus } from '../routing/types';
import { RegionEntity } from '../registry/region.entity';
import { RegionsService } from '../registry/regions.service';
import { CLUSTER_CHANGED, EventBus, HEALTH_CHANGED, OnAppEvent, REGISTRY_CHANGED } from '../common/events';
import { HealthSource, SnapshotStore } from '../snapshot/snapshot.store';
import {
  HealthThresholds, HealthTransition, Observation, RegionHealthState, armHeartbeat, checkHeartbeat, initialHealthState, record,
} from './health-state';
import { ProbeScheduler, ProbeSpec } from './probe-scheduler';
import type { ProbeResult } from './probes/probe-result';
import { MetricsService } from '../metrics/metrics.service';
import { DatabaseStatus } from '../database/database-status';

/** What the health module keeps of each region's configuration. */
interface RegionHealthConfig {
  readonly probe: ProbeSpec | null;
  readonly probeKey: string;
  readonly intervalMs: number;
  readonly thresholds: HealthThresholds;
  readonly heartbeatTimeoutSeconds: number | null;
  readonly webhookSecret: string | null;
  readonly drained: boolean;
}

export interface StoredObservation {
  at: string;
  source: Observation['source'];
  ok: boolean;
  reason: string | null;
  latencyMs?: number;
  instance: string;
  metrics?: Record<string, unknown>;
}

export interface HealthEventView {
  id: number;
  at: string;
  region: string;
  from: HealthStatus;
  to: HealthStatus;
  source: string;
  reason: string;
  instance: string | null;
}

const DEFAULT_THRESHOLDS: HealthThresholds = { healthyThreshold: 3, unhealthyThreshold: 3 };
const OBSERVATIONS_KEPT = 20;
const HEARTBEAT_TICK_MS = 250;
const WEBHOOK_ID_RETENTION_MS = 15 * 60 * 1000;

/**
 * Region health: probes and webhooks feed one record(observation) per region (the pure state
 * machine in health-state.ts); transitions are stored, and reach the routing snapshot through a
 * health.changed event. Observations of one region are applied one at a time, in arrival order.
 */
@Injectable()
export class HealthService implements OnModuleInit, OnApplicationShutdown, HealthSource {
  private readonly logger = new Logger('health');
  /** The regions' verdicts (shared through the database; what routing uses). */
  private readonly states = new Map<string, RegionHealthState>();
  /** This instance's own probe state machines (its votes). */
  private readonly localStates = new Map<string, RegionHealthState>();
  private readonly configs = new Map<string, RegionHealthConfig>();
  private readonly observations = new Map<string, Map<string, StoredObservation[]>>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly scheduler: ProbeScheduler;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ds: DataSource,
    private readonly events: EventBus,
    private readonly snapshots: SnapshotStore,
    private readonly regions: RegionsService,
    schedulerRegistry: SchedulerRegistry,
    private readonly metrics: MetricsService,
    private readonly dbStatus: DatabaseStatus,
  ) {
    metrics.onCollect(() => {
      metrics.regionHealth.reset();
      for (const [region, s] of this.states) {
        for (const status of ['healthy', 'unhealthy', 'unknown'] as const) metrics.regionHealth.set({ region, status }, s.status === status ? 1 : 0);
      }
    });
    this.scheduler = new ProbeScheduler({
      onResult: async (region, result) => {
        await this.onProbe(region, result);
      },
      onError: (region, err) => this.logger.error(`probe of ${region} failed to record: ${(err as Error)?.message ?? String(err)}`),
      timers: { add: (n, t) => schedulerRegistry.addTimeout(n, t), delete: (n) => schedulerRegistry.deleteTimeout(n) },
    });
  }

  async onModuleInit(): Promise<void> {
    this.snapshots.setHealthSource(this);
    this.regions.setHealthReader({ healthOf: (name) => this.summary(name) });
    // Without the database (static stability), health starts when it connects.
    if (this.ds.isInitialized) await this.start();
    else
      this.dbStatus.whenConnected(this.ds, async () => {
        await this.start();
        this.events.emit(HEALTH_CHANGED, { kind: 'reload' });
      });
  }

  private async start(): Promise<void> {
    if (this.stopped) return;
    const rows: { region: string; state: RegionHealthState }[] = await this.ds.query('SELECT region, state FROM region_health');
    for (const row of rows) this.states.set(row.region, Object.freeze({ ...row.state }));
    await this.syncRegions();
    this.scheduleHeartbeat();
    this.schedulePrune();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    await this.scheduler.stopAll();
    await Promise.allSettled([...this.queues.values()]);
  }

  statusOf(region: string): { status: HealthStatus; reason: string | null } | undefined {
    const s = this.states.get(region);
    return s ? { status: s.status, reason: s.reason } : undefined;
  }

  summary(region: string): { status: HealthStatus; since: string | null; reason: string | null } {
    const s = this.states.get(region);
    return s ? { status: s.status, since: new Date(s.since).toISOString(), reason: s.reason } : { status: 'unknown', since: null, reason: null };
  }

  /** The secrets a webhook for this region may be signed with (region's own first), and whether the region exists. */
  async webhookSecretsFor(region: string | null): Promise<{ known: boolean; secrets: string[] }> {
    // A region created a moment ago may not have reached us through registry.changed yet.
    if (region !== null && !this.configs.has(region)) await this.syncRegions();
    const cfg = region === null ? undefined : this.configs.get(region);
    const secrets = [cfg?.webhookSecret ?? null, this.config.webhookSecret].filter((s): s is string => s !== null);
    return { known: cfg !== undefined, secrets };
  }

  /** Remembers a webhook id; false when it was seen before (a replay). Ids are kept 15 minutes, across restarts. */
  async rememberWebhookId(id: string, region: string): Promise<boolean> {
    const res: unknown[] = await this.ds.query(
      'INSERT INTO webhook_deliveries (webhook_id, region) VALUES ($1, $2) ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id',
      [id, region],
    );
    return res.length === 1;
  }

  /** Applies an accepted webhook report at once (the region told us itself). */
  async onWebhook(region: string, ok: boolean, reason: string | null, metrics: Record<string, unknown> | undefined): Promise<RegionHealthState> {
    return this.observe(region, { source: 'webhook', ok, at: Date.now(), reason: reason ?? undefined, instance: this.config.instanceId }, { metrics });
  }

  async regionHealth(name: string) {
    const cfg = this.configs.get(name);
    if (!cfg) throw DomainError.notFound('region', name);
    const s = this.states.get(name) ?? initialHealthState(Date.now());
    const obs = this.observations.get(name) ?? new Map();
    const transitions: HealthEventView[] = (
      await this.ds.query('SELECT * FROM health_events WHERE region = $1 ORDER BY id DESC LIMIT 20', [name])
    ).map(toEventView);
    return {
      region: name,
      status: s.status,
      since: new Date(s.since).toISOString(),
      reason: s.reason,
      drained: cfg.drained,
      routable: !cfg.drained && s.status !== 'unhealthy',
      consecutiveOk: this.localStates.get(name)?.consecutiveOk ?? 0,
      consecutiveFail: this.localStates.get(name)?.consecutiveFail ?? 0,
      votes: (
        await this.ds.query('SELECT instance_id, status, reason, observed_at FROM health_votes WHERE region = $1 ORDER BY instance_id', [name])
      ).map((v: { instance_id: string; status: string; reason: string | null; observed_at: Date }) => ({
        instance: v.instance_id,
        status: v.status,
        reason: v.reason,
        observedAt: new Date(v.observed_at).toISOString(),
      })),
      lastWebhookAt: s.lastWebhookAt === null ? null : new Date(s.lastWebhookAt).toISOString(),
      probe: cfg.probe ? { intervalSeconds: cfg.intervalMs / 1000, ...cfg.thresholds } : null,
      heartbeatTimeoutSeconds: cfg.heartbeatTimeoutSeconds,
      sources: Object.fromEntries([...obs.entries()].map(([src, list]) => [src, { last: list[list.length - 1] ?? null, recent: [...list].reverse() }])),
      transitions,
    };
  }

  async listEvents(query: { region?: string; limit: number; afterId: number | null }): Promise<Page<HealthEventView>> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.region) {
      params.push(query.region);
      where.push(`region = $${params.length}`);
    }
    if (query.afterId !== null) {
      params.push(query.afterId);
      where.push(`id < $${params.length}`);
    }
    params.push(query.limit + 1);
    const rows = await this.ds.query(
      `SELECT * FROM health_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return toPage(rows as EventRow[], { limit: query.limit, after: null }, (r) => String(r.id), toEventView);
  }

  @OnAppEvent(REGISTRY_CHANGED)
  async onRegistryChanged(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.syncRegions();
    } catch (err) {
      this.logger.error(`cannot refresh health configuration: ${(err as Error).message}`);
    }
  }

  /** Reads every region's health settings; (re)schedules probes whose spec changed; drops removed regions. */
  private async syncRegions(): Promise<void> {
    const regions = await this.ds.getRepository(RegionEntity).find();
    const seen = new Set<string>();
    const now = Date.now();
    for (const r of regions) {
      seen.add(r.name);
      const hc = r.healthCheck;
      const probe: ProbeSpec | null = hc ? toProbeSpec(hc, this.config.instanceId) : null;
      const cfg: RegionHealthConfig = {
        probe,
        probeKey: probe ? JSON.stringify([probe, hc!.intervalSeconds]) : '',
        intervalMs: (hc?.intervalSeconds ?? 0) * 1000,
        thresholds: hc ? { healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold } : DEFAULT_THRESHOLDS,
        heartbeatTimeoutSeconds: r.heartbeatTimeoutSeconds,
        webhookSecret: r.webhookSecret,
        drained: r.drained,
      };
      const old = this.configs.get(r.name);
      this.configs.set(r.name, cfg);
      if (!this.states.has(r.name)) this.states.set(r.name, initialHealthState(now));
      if (old?.heartbeatTimeoutSeconds !== cfg.heartbeatTimeoutSeconds && cfg.heartbeatTimeoutSeconds !== null) {
        this.states.set(r.name, armHeartbeat(this.states.get(r.name)!, now));
      }
      if (cfg.probeKey !== (old?.probeKey ?? '')) {
        if (probe) this.scheduler.upsert(r.name, probe, cfg.intervalMs);
        else this.scheduler.remove(r.name);
      }
    }
    for (const name of [...this.configs.keys()]) {
      if (!seen.has(name)) {
        this.configs.delete(name);
        this.states.delete(name);
        this.localStates.delete(name);
        this.observations.delete(name);
        this.scheduler.remove(name);
      }
    }
  }

  private onProbe(region: string, result: ProbeResult): Promise<unknown> {
    this.metrics.probeSeconds.observe({ region, result: result.ok ? 'ok' : 'fail' }, result.latencyMs / 1000);
    return this.observe(
      region,
      { source: 'probe', ok: result.ok, at: Date.now(), reason: result.reason, instance: this.config.instanceId },
      { latencyMs: result.latencyMs },
    );
  }

  /** Serialises observations per region, applies the state machine, persists state and transition. */
  private observe(region: string, obs: Observation, extra: { latencyMs?: number; metrics?: Record<string, unknown> }): Promise<RegionHealthState> {
    const prev = this.queues.get(region) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.apply(region, obs, extra));
    this.queues.set(region, next);
    void next.finally(() => {
      if (this.queues.get(region) === next) this.queues.delete(region);
    }).catch(() => undefined);
    return next;
  }

  private async apply(region: string, obs: Observation, extra: { latencyMs?: number; metrics?: Record<string, unknown> }): Promise<RegionHealthState> {
    const cfg = this.configs.get(region);
    if (!cfg) throw DomainError.notFound('region', region);
    this.remember(region, obs, extra);
    if (obs.source === 'probe') return this.applyProbe(region, obs, cfg);
    // Webhooks and heartbeat time-outs are about the region itself: they apply to its verdict directly.
    const current = this.states.get(region) ?? initialHealthState(obs.at);
    const { state, transition } = record(current, obs, cfg.thresholds);
    return this.commit(region, current, state, transition);
  }

  /**
   * Probes vote. This instance's own state machine (thresholds, hysteresis) gives its verdict,
   * stored as its vote; when its verdict changes, the region's verdict becomes the majority of
   * the fresh votes (cast within three probe intervals) of every instance: unhealthy only when
   * more than half of the instances that observed the region say so, so one instance's network
   * trouble cannot fail a region over. With one instance this is exactly its own verdict.
   */
  private async applyProbe(region: string, obs: Observation, cfg: RegionHealthConfig): Promise<RegionHealthState> {
    const localBefore = this.localStates.get(region) ?? initialHealthState(obs.at);
    const { state: local, transition: localChange } = record(localBefore, obs, cfg.thresholds);
    this.localStates.set(region, local);
    const current = this.states.get(region) ?? initialHealthState(obs.at);
    if (local.status === 'unknown') return current;
    // One round trip: store this instance's vote, read the other instances' fresh votes.
    const rows: { status: string; n: number }[] = await this.ds.query(
      `WITH vote AS (
         INSERT INTO health_votes (region, instance_id, status, reason, observed_at) SELECT $1, $2, $3, $4, now() WHERE EXISTS (SELECT 1 FROM regions WHERE name = $1)
         ON CONFLICT (region, instance_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, observed_at = EXCLUDED.observed_at)
       SELECT status, count(*)::int AS n FROM health_votes
       WHERE region = $1 AND instance_id <> $2 AND observed_at > now() - ($5::int * interval '1 millisecond') GROUP BY status`,
      [region, this.config.instanceId, local.status, local.reason, Math.max(3 * cfg.intervalMs, 3000)],
    );
    if (!localChange && current.status !== 'unknown') return current;
    const mine = (status: string) => (local.status === status ? 1 : 0);
    const unhealthy = (rows.find((r) => r.status === 'unhealthy')?.n ?? 0) + mine('unhealthy');
    const healthy = (rows.find((r) => r.status === 'healthy')?.n ?? 0) + mine('healthy');
    const voters = unhealthy + healthy;
    const target: HealthStatus | null = unhealthy * 2 > voters ? 'unhealthy' : healthy > 0 ? 'healthy' : null;
    if (target === null || target === current.status) return current;
    const base = localChange?.reason ?? local.reason ?? obs.reason ?? 'probe';
    const reason = voters > 1 ? `${unhealthy} of ${voters} checkers report unhealthy; ${this.config.instanceId}: ${base}` : base;
    const transition: HealthTransition = { from: current.status, to: target, at: obs.at, source: 'probe', reason, instance: this.config.instanceId };
    const next: RegionHealthState = Object.freeze({ ...current, status: target, since: obs.at, reason, lastObservationAt: obs.at });
    return this.commit(region, current, next, transition);
  }

  /** Installs a new verdict, announces a transition, stores both; a lost race with another instance reloads. */
  private async commit(region: string, before: RegionHealthState, state: RegionHealthState, transition: HealthTransition | null): Promise<RegionHealthState> {
    this.states.set(region, state);
    if (transition) this.announce(region, transition);
    const won = await this.persist(region, before, state, transition);
    if (!won) await this.reloadStates();
    return this.states.get(region) ?? state;
  }

  /** Another instance changed the shared database: take the regions' verdicts from it. */
  @OnAppEvent(CLUSTER_CHANGED)
  async reloadStates(): Promise<void> {
    if (this.stopped || !this.ds.isInitialized) return;
    try {
      const rows: { region: string; state: RegionHealthState }[] = await this.ds.query('SELECT region, state FROM region_health');
      let changed = false;
      for (const row of rows) {
        const mine = this.states.get(row.region);
        // Only a newer verdict replaces ours: a read that raced our own write must not undo it,
        // and regions with observations being applied are left to that work.
        if (this.queues.has(row.region)) continue;
        if (!mine || row.state.since > mine.since) {
          this.states.set(row.region, Object.freeze({ ...row.state }));
          changed = true;
        }
      }
      if (changed) this.events.emit(HEALTH_CHANGED, { kind: 'reload' });
    } catch (err) {
      this.logger.warn(`cannot reload health states: ${(err as Error).message}`);
    }
  }

  private announce(region: string, t: HealthTransition): void {
    this.metrics.healthTransitions.inc({ region, to: t.to, source: t.source });
    this.logger.log(`region ${region}: ${t.from} -> ${t.to} (${t.source}: ${t.reason})`);
    this.events.emit(HEALTH_CHANGED, { kind: 'transition', region, from: t.from, to: t.to });
  }

  /**
   * Stores the verdict. A transition is a conditional update (only from the status this instance
   * saw), so when instances race exactly one records it; returns false when this one lost.
   */
  private async persist(region: string, before: RegionHealthState, state: RegionHealthState, t: HealthTransition | null): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const [, updated] = (await m.query(
        `UPDATE region_health SET state = $2::jsonb, updated_at = now() WHERE region = $1 AND ($3::text IS NULL OR state->>'status' = $3)`,
        [region, JSON.stringify(state), t ? before.status : null],
      )) as [unknown, number];
      if (updated === 0) {
        const [, inserted] = (await m.query(
          `INSERT INTO region_health (region, state, updated_at) SELECT $1, $2::jsonb, now() WHERE EXISTS (SELECT 1 FROM regions WHERE name = $1)
           ON CONFLICT (region) DO NOTHING`,
          [region, JSON.stringify(state)],
        )) as [unknown, number];
        if (inserted === 0) return false;
      }
      if (t) {
        await m.query(
          'INSERT INTO health_events (region, at, from_status, to_status, source, reason, instance) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [region, new Date(t.at), t.from, t.to, t.source, t.reason, t.instance ?? this.config.instanceId],
        );
      }
      return true;
    });
  }

  private remember(region: string, obs: Observation, extra: { latencyMs?: number; metrics?: Record<string, unknown> }): void {
    let bySource = this.observations.get(region);
    if (!bySource) this.observations.set(region, (bySource = new Map()));
    let list = bySource.get(obs.source);
    if (!list) bySource.set(obs.source, (list = []));
    list.push({
      at: new Date(obs.at).toISOString(),
      source: obs.source,
      ok: obs.ok,
      reason: obs.reason ?? null,
      instance: obs.instance ?? this.config.instanceId,
      ...(extra.latencyMs !== undefined ? { latencyMs: Math.round(extra.latencyMs * 10) / 10 } : {}),
      ...(extra.metrics !== undefined ? { metrics: extra.metrics } : {}),
    });
    if (list.length > OBSERVATIONS_KEPT) list.shift();
  }

  /** Regions with a heartbeat timeout become unhealthy when no webhook arrived in time. */
  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => {
      const now = Date.now();
      for (const [name, cfg] of this.configs) {
        if (cfg.heartbeatTimeoutSeconds === null) continue;
        const state = this.states.get(name);
        if (!state) continue;
        const { transition } = checkHeartbeat(state, now, cfg.heartbeatTimeoutSeconds);
        if (!transition) continue;
        void this.observe(name, { source: 'heartbeat-timeout', ok: false, at: now, reason: transition.reason, instance: this.config.instanceId }, {}).catch((err) =>
          this.logger.error(`heartbeat timeout of ${name} not recorded: ${(err as Error).message}`),
        );
      }
      this.scheduleHeartbeat();
    }, HEARTBEAT_TICK_MS);
    this.heartbeatTimer.unref();
  }

  private schedulePrune(): void {
    if (this.stopped) return;
    this.pruneTimer = setTimeout(async () => {
      try {
        await this.ds.query('DELETE FROM webhook_deliveries WHERE received_at < $1', [new Date(Date.now() - WEBHOOK_ID_RETENTION_MS)]);
      } catch (err) {
        this.logger.warn(`pruning webhook ids failed: ${(err as Error).message}`);
      }
      this.schedulePrune();
    }, 60_000);
    this.pruneTimer.unref();
  }
}

function toProbeSpec(hc: NonNullable<RegionEntity['healthCheck']>, instance: string): ProbeSpec {
  if (hc.type === 'tcp') {
    const idx = hc.target.lastIndexOf(':');
    const host = hc.target.slice(0, idx).replace(/^\[|\]$/g, '');
    return { type: 'tcp', host, port: Number(hc.target.slice(idx + 1)), timeoutMs: hc.timeoutMs };
  }
  return {
    type: 'http',
    url: hc.target,
    timeoutMs: hc.timeoutMs,
    expectedStatus: hc.expectedStatus,
    instance,
    ...(hc.bodyContains !== undefined ? { bodyContains: hc.bodyContains } : {}),
    ...(hc.insecureSkipVerify !== undefined ? { insecureSkipVerify: hc.insecureSkipVerify } : {}),
  };
}

interface EventRow { id: string | number; at: Date; region: string; from_status: HealthStatus; to_status: HealthStatus; source: string; reason: string; instance: string | null }

function toEventView(r: EventRow): HealthEventView {
  return { id: Number(r.id), at: new Date(r.at).toISOString(), region: r.region, from: r.from_status, to: r.to_status, source: r.source, reason: r.reason, instance: r.instance };
}
