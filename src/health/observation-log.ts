/**
 * The last OBSERVATIONS_KEPT observations of each region, per source (probe, webhook,
 * heartbeat-timeout), as GET /v1/regions/{name}/health shows them. In memory, this instance's
 * own: probes it ran and webhooks it received.
 */
import type { Observation, ObservationSource } from './health-state';

export const OBSERVATIONS_KEPT = 20;

export interface StoredObservation {
  at: string;
  source: ObservationSource;
  ok: boolean;
  reason: string | null;
  latencyMs?: number;
  instance: string;
  metrics?: Record<string, unknown>;
}

/** What came with an observation besides the verdict: a probe's latency, a webhook's metrics. */
export interface ObservationExtra {
  readonly latencyMs?: number;
  readonly metrics?: Record<string, unknown>;
}

export class ObservationLog {
  private readonly byRegion = new Map<string, Map<ObservationSource, StoredObservation[]>>();

  /** `instance`: named when the observation does not say which instance made it. */
  add(region: string, obs: Observation, extra: ObservationExtra, instance: string): void {
    let bySource = this.byRegion.get(region);
    if (!bySource) this.byRegion.set(region, (bySource = new Map()));
    let list = bySource.get(obs.source);
    if (!list) bySource.set(obs.source, (list = []));
    list.push({
      at: new Date(obs.at).toISOString(),
      source: obs.source,
      ok: obs.ok,
      reason: obs.reason ?? null,
      instance: obs.instance ?? instance,
      ...(extra.latencyMs !== undefined ? { latencyMs: Math.round(extra.latencyMs * 10) / 10 } : {}),
      ...(extra.metrics !== undefined ? { metrics: extra.metrics } : {}),
    });
    if (list.length > OBSERVATIONS_KEPT) list.shift();
  }

  /** Per source: the last observation and the recent ones, newest first. */
  sources(region: string): Record<string, { last: StoredObservation | null; recent: StoredObservation[] }> {
    const bySource = this.byRegion.get(region) ?? new Map<ObservationSource, StoredObservation[]>();
    return Object.fromEntries([...bySource.entries()].map(([src, list]) => [src, { last: list[list.length - 1] ?? null, recent: [...list].reverse() }]));
  }

  forget(region: string): void {
    this.byRegion.delete(region);
  }
}
