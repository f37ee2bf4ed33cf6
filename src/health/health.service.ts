import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError } from '../common/domain-error';
import { OutboundPolicy } from '../common/outbound-policy';
import { CLUSTER_CHANGED, EventBus, HEALTH_CHANGED, OnAppEvent, REGISTRY_CHANGED, type RegistryChangedEvent } from '../common/events';
import { Page, toPage } from '../common/paging';
import { MetricsService } from '../metrics/metrics.service';
import { RegionHealthReader } from '../registry/regions.service';
import type { HealthStatus } from '../routing/types';
import { HealthSource, SnapshotStore } from '../snapshot/snapshot.store';
import { RegionHealthConfig, healthConfigOf, heartbeatNeedsArming } from './health-config';
import {
  HealthTransition, Observation, RegionHealthState, armHeartbeat, checkHeartbeat, initialHealthState, isNewerVerdict, record, verdictFromVotes,
  voteFreshnessMs,
} from './health-state';
import { HealthRepository, TransitionRow } from './health.repository';
import { HealthEventResponse, RegionHealthResponse, toHealthEventResponse, toRegionHealthResponse } from './health.responses';
import { ObservationExtra, ObservationLog } from './observation-log';
import { ProbeScheduler } from './probe-scheduler';
import type { ProbeResult } from './probes/probe-result';

const HEARTBEAT_TICK_MS = 250;
const TRANSITIONS_SHOWN = 20;

/**
 * Region health, orchestrated: probes (ProbeScheduler) and webhooks feed one record(observation)
 * per region (the pure state machine in health-state.ts). Webhooks and heartbeat time-outs set
 * the region's shared verdict directly; probe results pass through this instance's own state
 * machine and change the shared verdict by vote (verdictFromVotes). Verdicts and transitions are
 * stored (HealthRepository) and reach the routing snapshot through health.changed.
 * Observations of one region are applied one at a time, in arrival order.
 */
@Injectable()
export class HealthService implements OnModuleInit, OnApplicationShutdown, HealthSource, RegionHealthReader {
  private readonly logger = new Logger('health');
  /** The regions' verdicts (shared through the database; what routing uses). */
  private readonly states = new Map<string, RegionHealthState>();
  /** This instance's own probe state machines (its votes). */
  private readonly localStates = new Map<string, RegionHealthState>();
  private readonly configs = new Map<string, RegionHealthConfig>();
  private readonly observations = new ObservationLog();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly scheduler: ProbeScheduler;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The registry refresh under way, if any (webhooks wait for it instead of reading the database). */
  private refreshing: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: HealthRepository,
    private readonly events: EventBus,
    private readonly snapshots: SnapshotStore,
    schedulerRegistry: SchedulerRegistry,
    private readonly metrics: MetricsService,
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
      outbound: new OutboundPolicy(config.outboundAllow),
    });
  }

  async onModuleInit(): Promise<void> {
    this.snapshots.setHealthSource(this);
    // Without the database (static stability), health starts when it connects.
    if (this.repository.connected) await this.start();
    else
      this.repository.whenConnected(async () => {
        await this.start();
        this.events.emit(HEALTH_CHANGED, { kind: 'reload' });
      });
  }

  private async start(): Promise<void> {
    if (this.stopped) return;
    for (const row of await this.repository.verdicts()) this.states.set(row.region, Object.freeze({ ...row.state }));
    await this.syncRegions();
    this.scheduleHeartbeat();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    await this.scheduler.stopAll();
    await Promise.allSettled([...this.queues.values()]);
  }

  /** For the snapshot store and the replication module: the region's verdict, if it has one. */
  statusOf(region: string): { status: HealthStatus; reason: string | null } | undefined {
    const s = this.states.get(region);
    return s ? { status: s.status, reason: s.reason } : undefined;
  }

  summary(region: string): { status: HealthStatus; since: string | null; reason: string | null } {
    const s = this.states.get(region);
    return s ? { status: s.status, since: new Date(s.since).toISOString(), reason: s.reason } : { status: 'unknown', since: null, reason: null };
  }

  /** For region API responses (RegionHealthReader). */
  healthOf(region: string): { status: HealthStatus; since: string | null; reason: string | null } {
    return this.summary(region);
  }

  /**
   * A region's health settings; undefined when there is no such region. A region created a
   * moment ago may not have reached us through registry.changed yet: an unknown name re-reads
   * the registry first.
   */
  /**
   * The configuration held in memory, without asking the database (the webhook's signature
   * check). A region not held yet waits for a refresh already under way (a region created a
   * moment ago), never starts one.
   */
  async cachedConfigOf(region: string): Promise<RegionHealthConfig | undefined> {
    if (!this.configs.has(region) && this.refreshing !== null) await this.refreshing;
    return this.configs.get(region);
  }

  async configOf(region: string): Promise<RegionHealthConfig | undefined> {
    if (!this.configs.has(region)) await this.syncRegions();
    return this.configs.get(region);
  }

  /** Applies an accepted webhook report at once (the region told us itself). */
  async onWebhook(region: string, ok: boolean, reason: string | null, metrics: Record<string, unknown> | undefined): Promise<RegionHealthState> {
    return this.observe(region, { source: 'webhook', ok, at: Date.now(), reason: reason ?? undefined, instance: this.config.instanceId }, { metrics });
  }

  async regionHealth(name: string): Promise<RegionHealthResponse> {
    const config = this.configs.get(name);
    if (!config) throw DomainError.notFound('region', name);
    const state = this.states.get(name) ?? initialHealthState(Date.now());
    const transitions = await this.repository.transitions({ region: name, beforeId: null, limit: TRANSITIONS_SHOWN });
    const votes = await this.repository.votesOf(name);
    return toRegionHealthResponse({ region: name, state, config, local: this.localStates.get(name), votes, sources: this.observations.sources(name), transitions });
  }

  async listEvents(query: { region?: string; limit: number; afterId: number | null }): Promise<Page<HealthEventResponse>> {
    const rows = await this.repository.transitions({ region: query.region, beforeId: query.afterId, limit: query.limit + 1 });
    return toPage<TransitionRow, HealthEventResponse>(rows, { limit: query.limit, after: null }, (r) => String(r.id), toHealthEventResponse);
  }

  /** Health settings live on regions: a change to services or records leaves them as they are. */
  @OnAppEvent(REGISTRY_CHANGED)
  async onRegistryChanged(event?: RegistryChangedEvent): Promise<void> {
    if (this.stopped || event?.kind === 'service' || event?.kind === 'record' || event?.kind === 'dnssec') return;
    const run = this.syncRegions().catch((err: Error) => this.logger.error(`cannot refresh health configuration: ${err.message}`));
    this.refreshing = run;
    await run;
    if (this.refreshing === run) this.refreshing = null;
  }

  /** Reads every region's health settings; (re)schedules probes whose spec changed; drops removed regions. */
  private async syncRegions(): Promise<void> {
    const regions = await this.repository.regions();
    const seen = new Set<string>();
    const now = Date.now();
    for (const r of regions) {
      seen.add(r.name);
      const cfg = healthConfigOf(r, this.config.instanceId);
      const old = this.configs.get(r.name);
      this.configs.set(r.name, cfg);
      if (!this.states.has(r.name)) this.states.set(r.name, initialHealthState(now));
      if (heartbeatNeedsArming(old, cfg)) this.states.set(r.name, armHeartbeat(this.states.get(r.name)!, now));
      if (cfg.probeKey !== (old?.probeKey ?? '')) {
        if (cfg.probe) this.scheduler.upsert(r.name, cfg.probe, cfg.intervalMs);
        else this.scheduler.remove(r.name);
      }
    }
    for (const name of [...this.configs.keys()]) {
      if (!seen.has(name)) {
        this.configs.delete(name);
        this.states.delete(name);
        this.localStates.delete(name);
        this.observations.forget(name);
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
  private observe(region: string, obs: Observation, extra: ObservationExtra): Promise<RegionHealthState> {
    const prev = this.queues.get(region) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.apply(region, obs, extra));
    this.queues.set(region, next);
    void next.finally(() => {
      if (this.queues.get(region) === next) this.queues.delete(region);
    }).catch(() => undefined);
    return next;
  }

  private async apply(region: string, obs: Observation, extra: ObservationExtra): Promise<RegionHealthState> {
    const cfg = this.configs.get(region);
    if (!cfg) throw DomainError.notFound('region', region);
    this.observations.add(region, obs, extra, this.config.instanceId);
    if (obs.source === 'probe') return this.applyProbe(region, obs, cfg);
    // Webhooks and heartbeat time-outs are about the region itself: they apply to its verdict directly.
    const current = this.states.get(region) ?? initialHealthState(obs.at);
    const { state, transition } = record(current, obs, cfg.thresholds);
    return this.commit(region, current, state, transition);
  }

  /** Probes vote: this instance's own verdict is stored as its vote, and the majority decides (verdictFromVotes). */
  private async applyProbe(region: string, obs: Observation, cfg: RegionHealthConfig): Promise<RegionHealthState> {
    const localBefore = this.localStates.get(region) ?? initialHealthState(obs.at);
    const { state: local, transition: localChange } = record(localBefore, obs, cfg.thresholds);
    this.localStates.set(region, local);
    const current = this.states.get(region) ?? initialHealthState(obs.at);
    if (local.status === 'unknown') return current;
    const others = await this.repository.castVote({
      region,
      instance: this.config.instanceId,
      status: local.status,
      reason: local.reason,
      freshForMs: voteFreshnessMs(cfg.intervalMs),
    });
    const { state, transition } = verdictFromVotes({ current, local, localChange, others, observation: obs, instance: this.config.instanceId });
    return transition ? this.commit(region, current, state, transition) : current;
  }

  /** Installs a new verdict, announces a transition, stores both; a lost race with another instance reloads. */
  private async commit(region: string, before: RegionHealthState, state: RegionHealthState, transition: HealthTransition | null): Promise<RegionHealthState> {
    this.states.set(region, state);
    if (transition) this.announce(region, transition);
    const won = await this.repository.saveVerdict(region, before, state, transition, this.config.instanceId);
    if (!won) await this.reloadStates();
    return this.states.get(region) ?? state;
  }

  /** Another instance changed the shared database: take the regions' verdicts from it. */
  @OnAppEvent(CLUSTER_CHANGED)
  async reloadStates(): Promise<void> {
    if (this.stopped || !this.repository.connected) return;
    try {
      let changed = false;
      for (const row of await this.repository.verdicts()) {
        // Regions with observations being applied are left to that work.
        if (this.queues.has(row.region)) continue;
        if (isNewerVerdict(this.states.get(row.region), row.state)) {
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
}
