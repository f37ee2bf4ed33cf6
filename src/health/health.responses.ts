/** What the health API returns, built from the module's state and rows in one place. */
import type { HealthStatus } from '../routing/types';
import type { RegionHealthConfig } from './health-config';
import { isRoutable, type RegionHealthState } from './health-state';
import type { TransitionRow, VoteRow } from './health.repository';
import type { StoredObservation } from './observation-log';

/** A stored transition (GET /v1/health/events, and the last ones of a region). */
export interface HealthEventResponse {
  id: number;
  at: string;
  region: string;
  from: HealthStatus;
  to: HealthStatus;
  source: string;
  reason: string;
  instance: string | null;
}

/** GET /v1/regions/{name}/health. */
export interface RegionHealthResponse {
  region: string;
  status: HealthStatus;
  since: string;
  reason: string | null;
  drained: boolean;
  routable: boolean;
  /** This instance's own probe counters. */
  consecutiveOk: number;
  consecutiveFail: number;
  votes: { instance: string; status: HealthStatus; reason: string | null; observedAt: string }[];
  lastWebhookAt: string | null;
  probe: { intervalSeconds: number; healthyThreshold: number; unhealthyThreshold: number } | null;
  heartbeatTimeoutSeconds: number | null;
  sources: Record<string, { last: StoredObservation | null; recent: StoredObservation[] }>;
  transitions: HealthEventResponse[];
}

export function toHealthEventResponse(r: TransitionRow): HealthEventResponse {
  return { id: Number(r.id), at: new Date(r.at).toISOString(), region: r.region, from: r.from_status, to: r.to_status, source: r.source, reason: r.reason, instance: r.instance };
}

export interface RegionHealthParts {
  readonly region: string;
  /** The shared verdict. */
  readonly state: RegionHealthState;
  readonly config: RegionHealthConfig;
  /** This instance's own probe state machine, if it has probed the region. */
  readonly local: RegionHealthState | undefined;
  readonly votes: readonly VoteRow[];
  readonly sources: RegionHealthResponse['sources'];
  readonly transitions: readonly TransitionRow[];
}

export function toRegionHealthResponse(p: RegionHealthParts): RegionHealthResponse {
  const { state: s, config: cfg } = p;
  return {
    region: p.region,
    status: s.status,
    since: new Date(s.since).toISOString(),
    reason: s.reason,
    drained: cfg.drained,
    routable: !cfg.drained && isRoutable(s.status),
    consecutiveOk: p.local?.consecutiveOk ?? 0,
    consecutiveFail: p.local?.consecutiveFail ?? 0,
    votes: p.votes.map((v) => ({ instance: v.instance_id, status: v.status, reason: v.reason, observedAt: new Date(v.observed_at).toISOString() })),
    lastWebhookAt: s.lastWebhookAt === null ? null : new Date(s.lastWebhookAt).toISOString(),
    probe: cfg.probe ? { intervalSeconds: cfg.intervalMs / 1000, ...cfg.thresholds } : null,
    heartbeatTimeoutSeconds: cfg.heartbeatTimeoutSeconds,
    sources: p.sources,
    transitions: p.transitions.map(toHealthEventResponse),
  };
}
