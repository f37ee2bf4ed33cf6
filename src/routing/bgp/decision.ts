/**
 * The BGP decision process, as an ordered list of small comparators.
 *
 * The list below IS the documentation of the decision: the first comparator that separates two
 * routes decides between them. Each comparator returns the better route, or `null` for a tie.
 *
 *   1. local-pref      highest LOCAL_PREF (customer 300 > peer 200 > provider 100)
 *   2. as-path-length  shortest AS path, prepends included
 *   3. origin          lowest ORIGIN (igp < egp < incomplete)
 *   4. med             lowest MED, only between routes from the same neighbour AS
 *   5. neighbor-asn    lowest neighbour ASN
 *   6. site-order      lowest site index: the stand-in for BGP's final router-ID / peer-address
 *                      tie-break. Only two sessions with the same neighbour ASN reach it, i.e. two
 *                      sites sharing an origin ASN and an upstream, with equal MED.
 *
 * Because `neighbor-asn` follows `med` directly, "MED only within one neighbour AS" is the same
 * as ordering by (neighbour ASN, MED): the list is a strict total order and has none of the MED
 * non-transitivity of real BGP (which comes from the IGP-cost step this model does not have).
 *
 * The reason for a best route is the comparator that was last needed to set it apart: run the
 * comparators in order over the candidate set, each time dropping every candidate that another
 * candidate beats; the reason is the comparator after which one route is left (`only-route` if
 * there was only one). Equivalently: the latest comparator that decides the winner against any
 * one rival.
 */
import { ORIGIN_ORDER, type Route } from './route';

export type DecisionReason = 'only-route' | 'local-pref' | 'as-path-length' | 'origin' | 'med' | 'neighbor-asn' | 'site-order';

export interface RouteComparator {
  readonly name: Exclude<DecisionReason, 'only-route'>;
  /** The better of the two routes, or null when this step cannot tell them apart. */
  readonly compare: (a: Route, b: Route) => Route | null;
}

function lower(a: Route, b: Route, key: (r: Route) => number): Route | null {
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? a : kb < ka ? b : null;
}

export const highestLocalPref: RouteComparator = Object.freeze({
  name: 'local-pref',
  compare: (a: Route, b: Route) => lower(a, b, (r) => -r.localPref),
});

export const shortestAsPath: RouteComparator = Object.freeze({
  name: 'as-path-length',
  compare: (a: Route, b: Route) => lower(a, b, (r) => r.asPath.length),
});

export const lowestOrigin: RouteComparator = Object.freeze({
  name: 'origin',
  compare: (a: Route, b: Route) => lower(a, b, (r) => ORIGIN_ORDER.indexOf(r.origin)),
});

export const lowestMedSameNeighbor: RouteComparator = Object.freeze({
  name: 'med',
  compare: (a: Route, b: Route) => (a.neighborAsn === b.neighborAsn ? lower(a, b, (r) => r.med) : null),
});

export const lowestNeighborAsn: RouteComparator = Object.freeze({
  name: 'neighbor-asn',
  compare: (a: Route, b: Route) => lower(a, b, (r) => r.neighborAsn),
});

export const lowestSiteIndex: RouteComparator = Object.freeze({
  name: 'site-order',
  compare: (a: Route, b: Route) => lower(a, b, (r) => r.prefixOwner),
});

/** The decision process, in order. */
export const DECISION_PROCESS: readonly RouteComparator[] = Object.freeze([
  highestLocalPref,
  shortestAsPath,
  lowestOrigin,
  lowestMedSameNeighbor,
  lowestNeighborAsn,
  lowestSiteIndex,
]);

/** Every reason a best route can carry; the index is the reason code used in dense results. */
export const DECISION_REASONS: readonly DecisionReason[] = Object.freeze([
  'only-route',
  ...DECISION_PROCESS.map((c) => c.name),
]);

export interface PairwiseDecision {
  /** The better route, or null if no comparator separates them (identical for the decision). */
  readonly winner: Route | null;
  readonly decidedBy: RouteComparator['name'] | null;
}

/** Runs the comparators in order; the first that is not a tie decides. */
export function compareRoutes(a: Route, b: Route): PairwiseDecision {
  for (const comparator of DECISION_PROCESS) {
    const winner = comparator.compare(a, b);
    if (winner !== null) return { winner, decidedBy: comparator.name };
  }
  return { winner: null, decidedBy: null };
}

export interface BestRoute {
  readonly route: Route;
  readonly reason: DecisionReason;
}

/**
 * The best of the candidates and the reason (see the header). Null when there are none.
 * Candidates that no comparator separates (identical routes) leave the first of them.
 */
export function selectBest(candidates: readonly Route[]): BestRoute | null {
  if (candidates.length === 0) return null;
  if (candidates.length === 1) return { route: candidates[0], reason: 'only-route' };
  let survivors = candidates;
  for (const comparator of DECISION_PROCESS) {
    survivors = survivors.filter((c) => !survivors.some((d) => d !== c && comparator.compare(d, c) === d));
    if (survivors.length === 1) return { route: survivors[0], reason: comparator.name };
  }
  return { route: survivors[0], reason: DECISION_PROCESS[DECISION_PROCESS.length - 1].name };
}
