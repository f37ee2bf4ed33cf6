/**
 * Steps 2 to 4 of the decision (residency, health, pick) over a policy's order: the one place
 * those rules live. decide() runs it over the order its policy computed from the client's
 * coordinates; the table path (tables/route-tables.ts) over the order read from a location
 * class's ranking. Same input, same Selection: that is what keeps DNS and explain in agreement.
 *
 * Contract: synchronous, no allocation (the caller owns and reuses the Selection), never throws
 * for a plan made by planService. Health and drain come from RegionState flags by region id
 * (hand-made snapshots without a state: from the RegionSnap fields).
 */
import type { ServicePlan } from './service-plan';
import { REGION_DRAINED, REGION_UNHEALTHY, type Reason, type RegionState } from './types';

/** Why no region can answer (the decision is refused), or null. */
export type Refusal = Extract<Reason, 'residency-primary-outside-eu' | 'residency-no-eligible-region' | 'all-unhealthy-fail-closed'>;

export interface SelectionInput {
  readonly plan: ServicePlan;
  /** Positions in plan.regions, best first (every position once). */
  readonly order: ArrayLike<number>;
  readonly orderLength: number;
  readonly state: RegionState | undefined;
  /** A gdpr service and an EU client: EU regions only. */
  readonly residencyApplies: boolean;
  /** A write to an active-passive service: the primary only. */
  readonly primaryOnly: boolean;
  readonly primaryIndex: number;
  /** A read of an active-passive service with stale replicas: they are not routable. */
  readonly skipStale: boolean;
  readonly stale: readonly boolean[] | null;
  /** hasAddress[i]: plan.regions[i] has an endpoint of the asked family. */
  readonly hasAddress: readonly boolean[];
}

/** The result, reused between calls by its owner. */
export class Selection {
  refusal: Refusal | null = null;
  /** No eligible region was routable and the service fails open: chosen among the non-drained ones. */
  failOpen = false;
  /** Chosen positions, best first: chosen[0 .. count-1]. */
  readonly chosen = new Int32Array(8);
  count = 0;
  /** Ranks (indexes into the order) of the first and last chosen region; -1 when none. */
  firstRank = -1;
  lastRank = -1;
  /** What each filter left: allowed by residency; and not drained; and a writer when writing; and routable. */
  allowedCount = 0;
  residencyEligibleCount = 0;
  eligibleCount = 0;
  routableCount = 0;
}

/** Drained / unhealthy flags of plan.regions[i]. */
export function regionFlags(plan: ServicePlan, state: RegionState | undefined, i: number): number {
  const id = plan.regionIds[i];
  if (state !== undefined && id >= 0 && id < state.flags.length) return state.flags[id];
  const region = plan.regions[i];
  return (region.drained ? REGION_DRAINED : 0) | (region.health === 'unhealthy' ? REGION_UNHEALTHY : 0);
}

/** Runs residency, health and the pick over `input.order` into `out`. */
export function select(input: SelectionInput, out: Selection): Selection {
  const { plan, state, residencyApplies, primaryOnly, primaryIndex, skipStale, stale, hasAddress, order } = input;
  const n = plan.regions.length;
  const isEu = plan.isEu;
  let allowed = 0;
  let residencyEligible = 0;
  let eligible = 0;
  let routable = 0;
  for (let i = 0; i < n; i++) {
    if (residencyApplies && !isEu[i]) continue;
    allowed++;
    const flags = regionFlags(plan, state, i);
    if ((flags & REGION_DRAINED) !== 0) continue;
    residencyEligible++;
    if (primaryOnly && i !== primaryIndex) continue;
    eligible++;
    if ((flags & REGION_UNHEALTHY) === 0 && !(skipStale && stale![i])) routable++;
  }
  out.allowedCount = allowed;
  out.residencyEligibleCount = residencyEligible;
  out.eligibleCount = eligible;
  out.routableCount = routable;
  out.refusal = null;
  out.failOpen = false;
  out.count = 0;
  out.firstRank = -1;
  out.lastRank = -1;

  if (primaryOnly && residencyApplies && primaryIndex >= 0 && !isEu[primaryIndex]) {
    out.refusal = 'residency-primary-outside-eu';
    return out;
  }
  if (residencyApplies && residencyEligible === 0) {
    out.refusal = 'residency-no-eligible-region';
    return out;
  }
  if (routable === 0) {
    if (eligible === 0 || plan.service.whenAllUnhealthy === 'fail-closed') {
      out.refusal = 'all-unhealthy-fail-closed';
      return out;
    }
    out.failOpen = true;
  }

  const failOpen = out.failOpen;
  const answerCount = plan.service.answerCount;
  const chosen = out.chosen;
  let count = 0;
  for (let k = 0; k < input.orderLength && count < answerCount && count < chosen.length; k++) {
    const i = order[k];
    if (residencyApplies && !isEu[i]) continue;
    if (primaryOnly && i !== primaryIndex) continue;
    const flags = regionFlags(plan, state, i);
    if ((flags & REGION_DRAINED) !== 0) continue;
    if (!failOpen && ((flags & REGION_UNHEALTHY) !== 0 || (skipStale && stale![i]))) continue;
    if (!hasAddress[i]) continue;
    chosen[count++] = i;
    if (out.firstRank < 0) out.firstRank = k;
    out.lastRank = k;
  }
  out.count = count;
  return out;
}

/** The operator sentence of a refusal (the EDE text in DNS, the problem detail over HTTP). */
export function refusalDetail(refusal: Refusal, input: SelectionInput, out: Selection): string {
  const { plan, residencyApplies, primaryOnly, primaryIndex } = input;
  const service = plan.service;
  const regions = plan.regions;
  switch (refusal) {
    case 'residency-primary-outside-eu': {
      const primary = regions[primaryIndex];
      return `service ${service.fqdn} is GDPR-resident and its primary ${primary.name} is in jurisdiction ${primary.jurisdiction}, outside the EU; writes from EU clients are refused`;
    }
    case 'residency-no-eligible-region':
      return plan.hasEuRegion
        ? `service ${service.fqdn} is GDPR-resident and every region it has in the EU jurisdiction is drained; EU clients cannot be served`
        : `service ${service.fqdn} is GDPR-resident and has no region in the EU jurisdiction; EU clients cannot be served`;
    default: {
      if (out.eligibleCount === 0) {
        if (regions.length === 0) return `service ${service.fqdn} has no regions`;
        if (primaryOnly) {
          const primary = primaryIndex >= 0 ? `its primary ${regions[primaryIndex].name} is drained` : 'its primary is not in the snapshot';
          return `writes to service ${service.fqdn} go to the primary only and ${primary}; drained regions are never answered`;
        }
        return `every region of service ${service.fqdn} is drained; drained regions are never answered`;
      }
      const insideEu = residencyApplies ? ' inside the EU' : '';
      return `no routable region${insideEu} for service ${service.fqdn} and it fails closed (whenAllUnhealthy=fail-closed)`;
    }
  }
}
