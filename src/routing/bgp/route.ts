/**
 * Immutable BGP routes for the one anycast prefix.
 *
 * A Route is what one AS holds after receiving an announcement: the AS path as received (the
 * neighbour first, the origin ASN last, prepends included), the transitive ORIGIN attribute, the
 * MED the neighbour set, the relationship it was learned over and the LOCAL_PREF that
 * relationship implies. Routes are frozen; receiving a route over a link makes a new one.
 */

/** The BGP ORIGIN attribute. Lower is preferred: igp < egp < incomplete. Sites originate IGP. */
export type OriginAttribute = 'igp' | 'egp' | 'incomplete';

/** Preference order of the ORIGIN attribute (index = rank, lower wins). */
export const ORIGIN_ORDER: readonly OriginAttribute[] = Object.freeze(['igp', 'egp', 'incomplete']);

/** Where a route came from, seen by the AS holding it. `origin`: the AS originates it itself. */
export type LearnedFrom = 'customer' | 'peer' | 'provider' | 'origin';

/**
 * LOCAL_PREF implied by the business relationship (Gao-Rexford): a customer pays, a peer is
 * free, a provider costs money. A locally originated route ranks above anything learned (what
 * BGP's weight / locally-originated step does); it never competes in the simulation because a
 * site only originates.
 */
export const LOCAL_PREF: Readonly<Record<LearnedFrom, number>> = Object.freeze({
  origin: 400,
  customer: 300,
  peer: 200,
  provider: 100,
});

/** Largest AS path prepend a site may configure (matches the region API's limit). */
export const MAX_PREPEND = 10;

export interface Route {
  /** Index of the site whose announcement this is (into the simulation's site list). */
  readonly prefixOwner: number;
  /** AS path as received: neighbour first, origin ASN last, prepends included. */
  readonly asPath: readonly number[];
  readonly origin: OriginAttribute;
  /** Multi-exit discriminator set by the neighbour; compared only between routes of one neighbour AS. */
  readonly med: number;
  readonly learnedFrom: LearnedFrom;
  /** ASN of the neighbour the route was learned from (the first AS on the path); 0 for `origin`. */
  readonly neighborAsn: number;
  readonly localPref: number;
}

/** What a site announces: enough to build the route its upstreams receive. */
export interface Announcement {
  readonly originAsn: number;
  /** Extra copies of the origin ASN on the path (0 = announce once). */
  readonly prepend: number;
  readonly origin?: OriginAttribute;
  readonly med?: number;
}

function freezeRoute(route: Route): Route {
  Object.freeze(route.asPath);
  return Object.freeze(route);
}

/** The route a site holds for its own prefix (empty path: nothing learned yet). */
export function originRoute(siteIndex: number, announcement: Announcement): Route {
  return freezeRoute({
    prefixOwner: siteIndex,
    asPath: [],
    origin: announcement.origin ?? 'igp',
    med: announcement.med ?? 0,
    learnedFrom: 'origin',
    neighborAsn: 0,
    localPref: LOCAL_PREF.origin,
  });
}

/**
 * The route an upstream receives from a site: the site is its customer, the path is the origin
 * ASN repeated 1 + prepend times, the MED is the one the site sets.
 */
export function routeFromSite(siteIndex: number, announcement: Announcement): Route {
  const asPath = new Array<number>(1 + announcement.prepend).fill(announcement.originAsn);
  return freezeRoute({
    prefixOwner: siteIndex,
    asPath,
    origin: announcement.origin ?? 'igp',
    med: announcement.med ?? 0,
    learnedFrom: 'customer',
    neighborAsn: announcement.originAsn,
    localPref: LOCAL_PREF.customer,
  });
}

/**
 * The route `receiverRelation` learns when `senderAsn` re-announces `route` to it. The sender
 * puts its ASN in front of the path; ORIGIN is transitive; MED is not (it describes the sender's
 * own exits, so a re-announced route carries MED 0 in this model).
 */
export function receiveRoute(route: Route, senderAsn: number, receiverRelation: Exclude<LearnedFrom, 'origin'>): Route {
  return freezeRoute({
    prefixOwner: route.prefixOwner,
    asPath: [senderAsn, ...route.asPath],
    origin: route.origin,
    med: 0,
    learnedFrom: receiverRelation,
    neighborAsn: senderAsn,
    localPref: LOCAL_PREF[receiverRelation],
  });
}

/**
 * Valley-free export (Gao-Rexford): a route learned from a customer, or originated, goes to
 * everyone; a route learned from a peer or a provider goes to customers only.
 * `receiverIs` is what the receiver is to the exporter.
 */
export function mayExport(route: Route, receiverIs: 'customer' | 'peer' | 'provider'): boolean {
  return route.learnedFrom === 'customer' || route.learnedFrom === 'origin' || receiverIs === 'customer';
}

/** Loop prevention: an AS drops a route whose path already contains its own ASN. */
export function pathContains(route: Route, asn: number): boolean {
  return route.asPath.includes(asn);
}
