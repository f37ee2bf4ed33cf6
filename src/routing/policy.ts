/**
 * The shape every routing policy shares. A policy only orders: it sees all of the service's
 * regions and returns every one of them, best first. Residency, health and address family are
 * applied afterwards by the engine, in that order, so a filter never leaves a policy with nothing.
 */
import type { LatencyRow, LatencyTable } from './latency';
import type { ServicePlan } from './service-plan';
import type { ClientInfo, Reason } from './types';

export interface PolicyContext {
  readonly plan: ServicePlan;
  readonly client: ClientInfo;
  /**
   * Distance from the client to plan.regions[i], rounded to 0.1 km; null when the client has
   * no coordinates.
   */
  readonly distancesKm: readonly number[] | null;
  /** The snapshot's compiled latency evidence (the latency policy), when it has any. */
  readonly latency?: LatencyTable;
}

export interface PolicyRanking {
  /** Positions in plan.regions, best first; each position exactly once. */
  readonly order: readonly number[];
  /** reasons[k] is the decision's reason if order[k] turns out to be the first region chosen. */
  readonly reasons: readonly Reason[];
  /**
   * How many leading entries of `order` come from geolocation entries that matched the client
   * (0 for other policies, or when no entry matched). Regions after them are outside every
   * matched entry.
   */
  readonly matchedEntryLength: number;
  /** Latency policy: the evidence row the order came from (null: distance only). */
  readonly latencyRow?: LatencyRow | null;
  /** Latency policy: how many leading entries of `order` are measured regions. */
  readonly measuredLength?: number;
}

export type RoutingPolicy = (context: PolicyContext) => PolicyRanking;

/** Positions 0..n-1: the service's own (failover) order. */
export function serviceOrder(n: number): number[] {
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/** Sorts positions by ascending distance, ties by service order (lower position first). In place. */
export function sortByDistance(positions: number[], distancesKm: readonly number[]): number[] {
  return positions.sort((a, b) => distancesKm[a] - distancesKm[b] || a - b);
}
