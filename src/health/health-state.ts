/**
 * Region health as a pure state machine (no clock, no I/O): probes, webhooks and heartbeat
 * time-outs all feed `record`, which returns a new frozen state and the transition, if any.
 *
 * Rules:
 * - A new region is 'unknown', which routes like 'healthy' (`isRoutable`).
 * - Probes have hysteresis: unknown/unhealthy -> healthy after `healthyThreshold` consecutive
 *   successes; unknown/healthy -> unhealthy after `unhealthyThreshold` consecutive failures.
 *   Results that alternate therefore never move a region when both thresholds are >= 2.
 * - A webhook is the region's own report: it applies at once (threshold 1), and resets the
 *   opposite counter, so probes need their full threshold to overrule it.
 *   A webhook older (`at`) than the newest webhook already recorded is ignored (reordering).
 * - Heartbeats: a region with a heartbeat time-out that sends no webhook within it becomes
 *   unhealthy at once (`checkHeartbeat`). Until the next webhook, probe successes are counted
 *   but cannot make it healthy again (otherwise probes and the time-out would flap it).
 * - Several instances probe each region. Each runs `record` on its own probe results; when its
 *   own status changes it votes, and the region's shared verdict follows the majority of the
 *   fresh votes (`verdictFromVotes`). Webhooks and heartbeat time-outs apply to the shared
 *   verdict directly.
 * - A verdict read back from the database replaces the one held only when it is newer
 *   (`isNewerVerdict`).
 * - Times are milliseconds since the epoch on this server's clock.
 */
import type { HealthStatus } from '../routing/types';

export type ObservationSource = 'probe' | 'webhook' | 'heartbeat-timeout';

export interface Observation {
  readonly source: ObservationSource;
  readonly ok: boolean;
  /** When it was observed (ms epoch). */
  readonly at: number;
  /** Why, for operators: 'status 503 not in 200-399', the webhook's reason, ... */
  readonly reason?: string;
  /** Which georoute instance (checker) observed it. */
  readonly instance?: string;
}

export interface HealthThresholds {
  /** Consecutive probe successes that make a region healthy (>= 1). */
  readonly healthyThreshold: number;
  /** Consecutive probe failures that make a region unhealthy (>= 1). */
  readonly unhealthyThreshold: number;
}

export interface RegionHealthState {
  readonly status: HealthStatus;
  /** When the current status began (creation time for 'unknown'). */
  readonly since: number;
  /** Why the last transition happened; null while never transitioned. */
  readonly reason: string | null;
  readonly consecutiveOk: number;
  readonly consecutiveFail: number;
  readonly lastObservationAt: number | null;
  readonly lastWebhookAt: number | null;
  /** Start of the heartbeat wait when no webhook has come since: creation, or `armHeartbeat`. */
  readonly heartbeatFrom: number;
  /** Set when the heartbeat time-out passed; cleared by the next webhook or `armHeartbeat`. */
  readonly heartbeatExpired: boolean;
}

export interface HealthTransition {
  readonly from: HealthStatus;
  readonly to: HealthStatus;
  readonly at: number;
  readonly source: ObservationSource;
  readonly reason: string;
  readonly instance?: string;
}

export interface RecordResult {
  readonly state: RegionHealthState;
  readonly transition: HealthTransition | null;
}

/** A region that has just been created (or whose health was reset). */
export function initialHealthState(at: number): RegionHealthState {
  return Object.freeze({
    status: 'unknown',
    since: at,
    reason: null,
    consecutiveOk: 0,
    consecutiveFail: 0,
    lastObservationAt: null,
    lastWebhookAt: null,
    heartbeatFrom: at,
    heartbeatExpired: false,
  });
}

/** Routable unless unhealthy ('unknown' routes like healthy). Drained is the registry's business. */
export function isRoutable(status: HealthStatus): boolean {
  return status !== 'unhealthy';
}

/** Applies one observation. Never mutates `state`. */
export function record(state: RegionHealthState, observation: Observation, thresholds: HealthThresholds): RecordResult {
  assertThresholds(thresholds);
  return apply(state, observation, thresholds);
}

/**
 * Marks the region unhealthy (source 'heartbeat-timeout') when no webhook arrived within
 * `heartbeatTimeoutSeconds`, measured from the last webhook, or from `heartbeatFrom` when none
 * came since. Idempotent: once expired, later checks change nothing until a webhook arrives.
 * A time-out of 0, negative or not finite means no heartbeat is required.
 */
export function checkHeartbeat(state: RegionHealthState, now: number, heartbeatTimeoutSeconds: number): RecordResult {
  const none: RecordResult = { state, transition: null };
  if (!Number.isFinite(heartbeatTimeoutSeconds) || heartbeatTimeoutSeconds <= 0 || state.heartbeatExpired) return none;
  const waitingSince = Math.max(state.lastWebhookAt ?? Number.NEGATIVE_INFINITY, state.heartbeatFrom);
  if (now - waitingSince < heartbeatTimeoutSeconds * 1000) return none;
  const silentSeconds = Math.round((now - waitingSince) / 1000);
  return apply(
    state,
    { source: 'heartbeat-timeout', ok: false, at: now, reason: `no webhook for ${silentSeconds} s (heartbeat timeout ${heartbeatTimeoutSeconds} s)` },
    null,
  );
}

/**
 * Starts the heartbeat wait afresh at `at`; call when a region's heartbeat time-out is set,
 * changed or removed, so the region is not judged against a requirement it did not have.
 */
export function armHeartbeat(state: RegionHealthState, at: number): RegionHealthState {
  return Object.freeze({ ...state, heartbeatFrom: at, heartbeatExpired: false });
}

/** `thresholds` null: only for sources that apply at once. */
function apply(state: RegionHealthState, observation: Observation, thresholds: HealthThresholds | null): RecordResult {
  const { source, ok, at } = observation;
  if (source === 'webhook' && state.lastWebhookAt !== null && at < state.lastWebhookAt) {
    return { state, transition: null };
  }
  const immediate = source !== 'probe';
  const consecutiveOk = ok ? state.consecutiveOk + 1 : 0;
  const consecutiveFail = ok ? 0 : state.consecutiveFail + 1;
  const heartbeatExpired = source === 'webhook' ? false : source === 'heartbeat-timeout' ? true : state.heartbeatExpired;

  let to: HealthStatus = state.status;
  if (ok && state.status !== 'healthy' && !heartbeatExpired) {
    if (immediate || consecutiveOk >= (thresholds?.healthyThreshold ?? 1)) to = 'healthy';
  } else if (!ok && state.status !== 'unhealthy') {
    if (immediate || consecutiveFail >= (thresholds?.unhealthyThreshold ?? 1)) to = 'unhealthy';
  }

  const base = {
    ...state,
    consecutiveOk,
    consecutiveFail,
    lastObservationAt: state.lastObservationAt === null ? at : Math.max(state.lastObservationAt, at),
    lastWebhookAt: source === 'webhook' ? at : state.lastWebhookAt,
    heartbeatExpired,
  };
  if (to === state.status) return { state: Object.freeze(base), transition: null };

  const reason = transitionReason(observation, to, ok ? consecutiveOk : consecutiveFail);
  const transition: HealthTransition = Object.freeze({
    from: state.status,
    to,
    at,
    source,
    reason,
    ...(observation.instance === undefined ? {} : { instance: observation.instance }),
  });
  return { state: Object.freeze({ ...base, status: to, since: at, reason }), transition };
}

function transitionReason(observation: Observation, to: HealthStatus, count: number): string {
  const detail = observation.reason;
  switch (observation.source) {
    case 'probe': {
      const what = observation.ok ? `${count} consecutive probe successes` : `${count} consecutive probe failures`;
      return detail ? `${what}: ${detail}` : what;
    }
    case 'webhook':
      return detail ? `webhook reported ${to}: ${detail}` : `webhook reported ${to}`;
    case 'heartbeat-timeout':
      return detail ?? 'heartbeat timeout';
  }
}

function assertThresholds(thresholds: HealthThresholds): void {
  for (const [name, value] of Object.entries(thresholds)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
}

/** Fresh probe votes of the other instances (this instance's own vote is counted separately). */
export interface Votes {
  readonly healthy: number;
  readonly unhealthy: number;
}

/** A vote is fresh when cast within three probe intervals, and never less than 3 s. */
export function voteFreshnessMs(probeIntervalMs: number): number {
  return Math.max(3 * probeIntervalMs, 3000);
}

export interface VoteRound {
  /** The region's shared verdict before this probe result. */
  readonly current: RegionHealthState;
  /** This instance's own probe state machine after the result (`record` with source 'probe'). */
  readonly local: RegionHealthState;
  /** The transition of this instance's own state machine, if the result caused one. */
  readonly localChange: HealthTransition | null;
  /** The other instances' fresh votes. */
  readonly others: Votes;
  /** The probe result. */
  readonly observation: Observation;
  /** This instance's id (named in the reason and the transition). */
  readonly instance: string;
}

/**
 * The region's shared verdict after one of this instance's probe results: unhealthy only when
 * more than half of the instances that voted say so (one instance's network trouble cannot fail
 * a region over), else healthy when any voter says so. With one instance it is exactly its own
 * verdict. The verdict is reconsidered only when this instance's own status changed, or while
 * the region is still 'unknown'; an instance whose own status is 'unknown' has no vote yet.
 * Returns the new state and its transition, or `current` with no transition.
 */
export function verdictFromVotes(round: VoteRound): RecordResult {
  const { current, local, localChange, others, observation, instance } = round;
  const none: RecordResult = { state: current, transition: null };
  if (local.status === 'unknown') return none;
  if (!localChange && current.status !== 'unknown') return none;
  const unhealthy = others.unhealthy + (local.status === 'unhealthy' ? 1 : 0);
  const healthy = others.healthy + (local.status === 'healthy' ? 1 : 0);
  const voters = unhealthy + healthy;
  const target: HealthStatus | null = unhealthy * 2 > voters ? 'unhealthy' : healthy > 0 ? 'healthy' : null;
  if (target === null || target === current.status) return none;
  const base = localChange?.reason ?? local.reason ?? observation.reason ?? 'probe';
  const reason = voters > 1 ? `${unhealthy} of ${voters} checkers report unhealthy; ${instance}: ${base}` : base;
  const at = observation.at;
  const transition: HealthTransition = Object.freeze({ from: current.status, to: target, at, source: 'probe', reason, instance });
  return { state: Object.freeze({ ...current, status: target, since: at, reason, lastObservationAt: at }), transition };
}

/** Whether a verdict read from the database should replace the one held (none held, or it began later). */
export function isNewerVerdict(held: RegionHealthState | undefined, stored: RegionHealthState): boolean {
  return held === undefined || stored.since > held.since;
}
