/**
 * Replication-aware routing, the pure part (DESIGN §9b). No framework imports, no I/O, no clock:
 * the time is always an argument.
 *
 * - Read eligibility: in an active-passive service the primary always serves reads; a replica
 *   does only while its last lag report is at most `maxStalenessMs` and younger than its
 *   region's heartbeat timeout (DEFAULT_LAG_REPORT_MAX_AGE_SECONDS when the region has none).
 *   Without a `maxStalenessMs` no replica is excluded for staleness. Active-active peers are
 *   never excluded for lag.
 * - Promotion choice: when an active-passive primary fails, the replica to promote is the
 *   usable one (not drained, not unhealthy, with a fresh lag report within `maxStalenessMs`, and
 *   of the primary's jurisdiction when the service is GDPR-resident) with the smallest lag; ties
 *   go to the earlier region in service order. The chosen replica's lag is the estimated
 *   data-loss window.
 * - `replicationView(plan)`: the per-region arrays decide() reads, computed once per plan.
 */
import type { ServicePlan } from './service-plan';
import type {
  ConflictResolution,
  HealthStatus,
  PromotionMode,
  ReplicaRole,
  ReplicaSnap,
  ReplicaStaleness,
  ReplicationMode,
  Residency,
} from './types';

export const REPLICATION_MODES: readonly ReplicationMode[] = ['none', 'active-passive', 'active-active'];
export const PROMOTION_MODES: readonly PromotionMode[] = ['automatic', 'manual'];
export const CONFLICT_RESOLUTIONS: readonly ConflictResolution[] = ['last-write-wins', 'vector-clocks', 'crdt', 'application'];

/** How old a lag report may be when the region has no heartbeatTimeoutSeconds. */
export const DEFAULT_LAG_REPORT_MAX_AGE_SECONDS = 60;
/** Promotion default: a human decides (promotions can lose the replica's lag worth of writes). */
export const DEFAULT_PROMOTION: PromotionMode = 'manual';
export const DEFAULT_PROMOTION_DELAY_SECONDS = 30;
export const MAX_PROMOTION_DELAY_SECONDS = 86_400;
/** maxStalenessMs is at most one day. */
export const MAX_STALENESS_MS = 86_400_000;
/** A reported lag is at most 10^12 ms (about 31 years): anything larger is a broken reporter. */
export const MAX_REPORTED_LAG_MS = 1e12;

/** The age after which a region's lag report no longer counts (its heartbeat timeout, else the default). */
export function lagReportMaxAgeMs(heartbeatTimeoutSeconds: number | null | undefined): number {
  const seconds =
    typeof heartbeatTimeoutSeconds === 'number' && Number.isFinite(heartbeatTimeoutSeconds) && heartbeatTimeoutSeconds > 0
      ? heartbeatTimeoutSeconds
      : DEFAULT_LAG_REPORT_MAX_AGE_SECONDS;
  return seconds * 1000;
}

/** A region's part in a service: primary or replica (active-passive), peer (active-active). */
export function roleOf(mode: Exclude<ReplicationMode, 'none'>, primary: string | null, region: string): ReplicaRole {
  if (mode === 'active-active') return 'peer';
  return region === primary ? 'primary' : 'replica';
}

export interface StalenessInput {
  readonly role: ReplicaRole;
  readonly lagMs: number | null;
  /** When the report was received (ms since the epoch), or null. */
  readonly reportedAtMs: number | null;
  readonly maxStalenessMs: number | null;
  readonly maxReportAgeMs: number;
  readonly now: number;
}

/** Why a member may not serve reads, or null when it may (see the module comment). */
export function replicaStaleness(input: StalenessInput): ReplicaStaleness | null {
  if (input.role !== 'replica' || input.maxStalenessMs === null) return null;
  if (input.lagMs === null || input.reportedAtMs === null) return 'no-report';
  if (input.now - input.reportedAtMs > input.maxReportAgeMs) return 'report-too-old';
  if (input.lagMs > input.maxStalenessMs) return 'lag-exceeds-bound';
  return null;
}

/** An operator sentence for a staleness verdict. */
export function describeStaleness(member: Pick<ReplicaSnap, 'region' | 'lagMs' | 'maxReportAgeMs' | 'stale'>, maxStalenessMs: number | null): string {
  switch (member.stale) {
    case 'lag-exceeds-bound':
      return `replica ${member.region} lags ${member.lagMs} ms, more than maxStalenessMs ${maxStalenessMs}`;
    case 'report-too-old':
      return `replica ${member.region} has not reported its lag for more than ${member.maxReportAgeMs / 1000} s`;
    case 'no-report':
      return `replica ${member.region} has not reported its lag`;
    default:
      return `${member.region} may serve reads`;
  }
}

// ---------------------------------------------------------------------------------------------
// Promotion

/** One region of the service as promotion sees it. */
export interface PromotionRegion {
  readonly region: string;
  readonly jurisdiction: string;
  readonly health: HealthStatus;
  readonly drained: boolean;
  /** The last lag report for this service, or nulls. */
  readonly lagMs: number | null;
  readonly reportedAtMs: number | null;
  readonly maxReportAgeMs: number;
}

export interface PromotionInput {
  /** The current primary (one of `regions`). */
  readonly primary: string;
  readonly residency: Residency;
  readonly maxStalenessMs: number | null;
  /** Every region of the service, in service order. */
  readonly regions: readonly PromotionRegion[];
  readonly now: number;
}

/**
 * Why a region cannot be promoted. The first three are never overridden; the others are safety
 * checks that a forced manual promotion may override.
 */
export type PromotionRefusal =
  | 'not-a-service-region'
  | 'already-primary'
  | 'drained'
  | 'unhealthy'
  | 'jurisdiction'
  | 'no-lag-report'
  | 'report-too-old'
  | 'lag-exceeds-bound';

const NEVER_FORCED: readonly PromotionRefusal[] = ['not-a-service-region', 'already-primary', 'drained'];

export interface PromotionVerdict {
  readonly region: string;
  /** null: the region may be promoted. */
  readonly refusal: PromotionRefusal | null;
  readonly detail: string;
  readonly lagMs: number | null;
}

/** Whether `force` may override a refusal. */
export function isForceable(refusal: PromotionRefusal): boolean {
  return !NEVER_FORCED.includes(refusal);
}

/** Whether `target` may become the primary now, and if not, why (the first rule that fails). */
export function assessPromotionTarget(input: PromotionInput, target: string): PromotionVerdict {
  const region = input.regions.find((r) => r.region === target);
  if (region === undefined) return verdict(target, 'not-a-service-region', `${target} is not a region of the service`, null);
  const lagMs = region.lagMs;
  if (target === input.primary) return verdict(target, 'already-primary', `${target} is already the primary`, lagMs);
  if (region.drained) return verdict(target, 'drained', `${target} is drained; a drained region is never answered`, lagMs);
  if (region.health === 'unhealthy') return verdict(target, 'unhealthy', `${target} is unhealthy`, lagMs);
  const primary = input.regions.find((r) => r.region === input.primary);
  if (input.residency === 'gdpr' && primary !== undefined && primary.jurisdiction !== region.jurisdiction) {
    return verdict(
      target,
      'jurisdiction',
      `${target} is in jurisdiction ${region.jurisdiction}, the primary ${input.primary} in ${primary.jurisdiction}; a GDPR-resident service keeps its primary in the primary's jurisdiction`,
      lagMs,
    );
  }
  if (lagMs === null || region.reportedAtMs === null) return verdict(target, 'no-lag-report', `${target} has not reported its replication lag`, null);
  if (input.now - region.reportedAtMs > region.maxReportAgeMs) {
    return verdict(target, 'report-too-old', `${target} last reported its lag more than ${region.maxReportAgeMs / 1000} s ago`, lagMs);
  }
  if (input.maxStalenessMs !== null && lagMs > input.maxStalenessMs) {
    return verdict(target, 'lag-exceeds-bound', `${target} lags ${lagMs} ms, more than maxStalenessMs ${input.maxStalenessMs}`, lagMs);
  }
  return verdict(target, null, `${target} may be promoted (lag ${lagMs} ms)`, lagMs);
}

export type PromotionChoice =
  | { readonly region: string; readonly lagMs: number; readonly verdicts: readonly PromotionVerdict[] }
  | { readonly region: null; readonly detail: string; readonly verdicts: readonly PromotionVerdict[] };

/** The replica to promote: the promotable one with the smallest lag, ties in service order. */
export function choosePromotion(input: PromotionInput): PromotionChoice {
  const verdicts = input.regions.filter((r) => r.region !== input.primary).map((r) => assessPromotionTarget(input, r.region));
  let best: PromotionVerdict | null = null;
  for (const v of verdicts) {
    if (v.refusal !== null || v.lagMs === null) continue;
    if (best === null || v.lagMs < (best.lagMs as number)) best = v;
  }
  if (best !== null) return { region: best.region, lagMs: best.lagMs as number, verdicts };
  const detail =
    verdicts.length === 0
      ? `primary ${input.primary} has no replica`
      : `no replica of primary ${input.primary} can be promoted: ${verdicts.map((v) => v.detail).join('; ')}`;
  return { region: null, detail, verdicts };
}

export interface PromotionDueInput {
  readonly promotion: PromotionMode;
  readonly primaryHealth: HealthStatus;
  /** When the primary became unhealthy (ms since the epoch), or null when unknown. */
  readonly unhealthySinceMs: number | null;
  readonly promotionDelaySeconds: number;
  readonly now: number;
}

/** An automatic service whose primary has been unhealthy for promotionDelaySeconds is due a promotion. */
export function promotionDue(input: PromotionDueInput): boolean {
  if (input.promotion !== 'automatic' || input.primaryHealth !== 'unhealthy' || input.unhealthySinceMs === null) return false;
  return input.now - input.unhealthySinceMs >= input.promotionDelaySeconds * 1000;
}

function verdict(region: string, refusal: PromotionRefusal | null, detail: string, lagMs: number | null): PromotionVerdict {
  return { region, refusal, detail, lagMs };
}

// ---------------------------------------------------------------------------------------------
// What decide() reads

/** A replicated service's members as positions of its plan (plan.regions order). */
export interface ReplicationView {
  readonly activePassive: boolean;
  /** Position of the primary in plan.regions; -1 for active-active (or a primary missing from the snapshot). */
  readonly primaryIndex: number;
  readonly roles: readonly ReplicaRole[];
  readonly lagMs: readonly (number | null)[];
  /** stale[i]: excluded from reads. */
  readonly stale: readonly boolean[];
  readonly staleCount: number;
}

const views = new WeakMap<ServicePlan, ReplicationView>();

/** The replication view of a plan (null when the service is not replicated); cached per plan. */
export function replicationView(plan: ServicePlan): ReplicationView | null {
  const replication = plan.service.replication;
  if (replication === undefined) return null;
  const cached = views.get(plan);
  if (cached !== undefined) return cached;
  const byRegion = new Map<string, ReplicaSnap>();
  for (const member of replication.members) byRegion.set(member.region, member);
  const n = plan.regions.length;
  const roles = new Array<ReplicaRole>(n);
  const lagMs = new Array<number | null>(n);
  const stale = new Array<boolean>(n);
  let staleCount = 0;
  let primaryIndex = -1;
  for (let i = 0; i < n; i++) {
    const name = plan.regions[i].name;
    const member = byRegion.get(name);
    roles[i] = member?.role ?? roleOf(replication.mode, replication.primary, name);
    lagMs[i] = member?.lagMs ?? null;
    stale[i] = replication.mode === 'active-passive' && roles[i] === 'replica' && (member?.stale ?? null) !== null;
    if (stale[i]) staleCount++;
    if (roles[i] === 'primary') primaryIndex = i;
  }
  const view: ReplicationView = Object.freeze({
    activePassive: replication.mode === 'active-passive',
    primaryIndex,
    roles: Object.freeze(roles),
    lagMs: Object.freeze(lagMs),
    stale: Object.freeze(stale),
    staleCount,
  });
  views.set(plan, view);
  return view;
}
