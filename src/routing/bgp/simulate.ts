/**
 * Anycast simulation: every announced site originates the one anycast prefix, BGP propagates it
 * under Gao-Rexford preferences and valley-free export, and each AS ends with one best route.
 *
 * Algorithm (the standard three-phase propagation for one prefix; every step reads only routes
 * that are already final):
 *   1. Up: walk the ASes in `topology.upwardOrder` (every AS after all of its customers). An AS
 *      takes the best of the routes its customers hold as customer routes, plus the routes of
 *      the sites attached to it. A customer route is final here: nothing learned later (peer or
 *      provider, lower LOCAL_PREF) can replace it.
 *   2. Across: every AS without a customer route takes the best customer route of its peers
 *      (peers export only customer routes). Final: provider routes rank lower.
 *   3. Down: walk `upwardOrder` backwards (every AS after all of its providers). An AS without a
 *      customer or peer route takes the best route of its providers, which are final already.
 * An AS that keeps a better-class route still receives the later announcements: they count as
 * updates and as rivals for the reason (`local-pref`). Loop prevention drops an announcement
 * whose path contains the receiver (walked through the next-hop chain).
 *
 * Cost: O(ASes + links + path-length x (peer + provider announcements)) time, O(ASes) memory on
 * top of the topology. Each best route is stored as (site, path length, next hop, class,
 * reason); the AS path is rebuilt on demand by following next hops.
 *
 * The per-AS choice is a fast, allocation-free transcription of DECISION_PROCESS (decision.ts);
 * a property test checks it against `referenceSimulate`, which runs plain BGP with Route objects
 * and `selectBest` until nothing changes.
 */
import { DECISION_REASONS, type DecisionReason } from './decision';
import { greatCircleDistanceKm } from '../geo-distance';
import { LOCAL_PREF, ORIGIN_ORDER, type LearnedFrom, type Route } from './route';
import { validateSites, type Site } from './site';
import type { AsAttributes, Topology } from './topology';

export interface SimulateOptions {
  /** Regions whose sites do not announce (unhealthy, or a what-if). Unknown names are ignored. */
  readonly withdrawn?: ReadonlySet<string>;
  /** How many unreachable ASNs to list (default 1000); the count is always complete. */
  readonly unreachableListLimit?: number;
}

export interface Catchment {
  /** ASes whose best route leads to this region's site. */
  readonly ases: number;
  /** ases / ASes that reach any site (0 when none does). */
  readonly share: number;
}

export interface Convergence {
  /** Propagation waves: deepest up-hop chain + 1 if any peer hop + deepest down-hop chain. */
  readonly rounds: number;
  /** Route announcements delivered to (and processed by) ASes, including ones dropped by loop prevention. */
  readonly updates: number;
}

export interface Efficiency {
  /** Located ASes (with coordinates) that reach a site: the denominator of both figures. */
  readonly locatedAses: number;
  /** Share of them whose site is not the geographically nearest announced site. */
  readonly nonNearestShare: number;
  /** Mean over them of distance(their site) - distance(nearest announced site), in km. */
  readonly meanExtraKm: number;
}

export interface GeoDnsAgreement {
  /** Located ASes that reach a site. */
  readonly locatedAses: number;
  /** Of those, how many land on the region the proximity policy picks. */
  readonly agreeing: number;
  readonly share: number;
}

/**
 * A proximity policy for `geoDnsAgreement`: the region it would send this AS to (out of the
 * announced regions), or null for none.
 */
export type ProximityAssignment = (as: AsAttributes, announcedRegions: readonly string[]) => string | null | undefined;

/** routed: has a best route. unreachable: none. origin: the AS is an announcing site's origin ASN. */
export type AsStatus = 'routed' | 'unreachable' | 'origin';

export interface AsRouteReport {
  readonly asn: number;
  readonly status: AsStatus;
  /** Region of the chosen site, null unless routed. */
  readonly region: string | null;
  /** Index of the chosen site, -1 unless routed. */
  readonly site: number;
  readonly reason: DecisionReason | null;
  readonly learnedFrom: LearnedFrom | null;
  readonly route: Route | null;
}

export interface SimulationSummary {
  readonly sites: readonly { readonly region: string; readonly originAsn: number; readonly announced: boolean }[];
  readonly ases: number;
  readonly reached: number;
  readonly unreachable: number;
  readonly unreachableAsns: readonly number[];
  readonly originAsns: readonly number[];
  readonly catchments: Readonly<Record<string, Catchment>>;
  readonly convergence: Convergence;
  readonly efficiency: Efficiency;
}

export const DEFAULT_UNREACHABLE_LIST_LIMIT = 1000;

/** Route class per AS (dense `learnedCode`). */
const NONE = 0;
const CUSTOMER = 1;
const PEER = 2;
const PROVIDER = 3;
const ORIGIN_AS = 4;
const LEARNED: readonly (LearnedFrom | null)[] = [null, 'customer', 'peer', 'provider', 'origin'];

/** Reason codes = indices into DECISION_REASONS. The fast path below hard-codes this order. */
const ONLY_ROUTE = 0;
const BY_LOCAL_PREF = 1;
const BY_AS_PATH = 2;
const BY_ORIGIN = 3;
const BY_MED = 4;
const BY_NEIGHBOR_ASN = 5;
const BY_SITE_ORDER = 6;
const FAST_PATH_ORDER = 'only-route,local-pref,as-path-length,origin,med,neighbor-asn,site-order';
if (DECISION_REASONS.join(',') !== FAST_PATH_ORDER) {
  throw new Error(`simulate.ts transcribes the decision order ${FAST_PATH_ORDER}; update it to ${DECISION_REASONS.join(',')}`);
}

/**
 * One step of DECISION_PROCESS between the incumbent (A) and a candidate (B) of the same
 * LOCAL_PREF: +code if B is better, -code if A is (or they are identical).
 */
function decide(
  lenA: number, orA: number, nbrA: number, medA: number, siteA: number,
  lenB: number, orB: number, nbrB: number, medB: number, siteB: number,
): number {
  if (lenA !== lenB) return lenB < lenA ? BY_AS_PATH : -BY_AS_PATH;
  if (orA !== orB) return orB < orA ? BY_ORIGIN : -BY_ORIGIN;
  if (nbrA === nbrB) {
    if (medA !== medB) return medB < medA ? BY_MED : -BY_MED;
  } else {
    return nbrB < nbrA ? BY_NEIGHBOR_ASN : -BY_NEIGHBOR_ASN;
  }
  return siteB < siteA ? BY_SITE_ORDER : -BY_SITE_ORDER;
}

/**
 * Best-so-far among the announcements one AS receives in one phase. The reason is kept as the
 * latest comparator that set the winner apart from any rival (see decision.ts): when a candidate
 * wins, the deciding step becomes the reason; when it loses, the reason rises to that step.
 */
class Fold {
  count = 0;
  len = 0;
  origin = 0;
  nbr = 0;
  med = 0;
  site = -1;
  nextHop = 0;
  depth = 0;
  reason = ONLY_ROUTE;

  reset(): void {
    this.count = 0;
    this.reason = ONLY_ROUTE;
  }

  offer(len: number, origin: number, nbr: number, med: number, site: number, nextHop: number, depth: number): void {
    if (this.count++ > 0) {
      const d = decide(this.len, this.origin, this.nbr, this.med, this.site, len, origin, nbr, med, site);
      if (d < 0) {
        if (-d > this.reason) this.reason = -d;
        return;
      }
      this.reason = d;
    }
    this.len = len;
    this.origin = origin;
    this.nbr = nbr;
    this.med = med;
    this.site = site;
    this.nextHop = nextHop;
    this.depth = depth;
  }
}

interface SiteTable {
  readonly announced: Uint8Array;
  readonly originAsn: Float64Array;
  readonly pathLength: Int32Array;
  readonly origin: Int32Array;
  readonly med: Float64Array;
}

/**
 * Runs the simulation. Withdrawn sites announce nothing. Throws SiteError for invalid sites
 * (RangeError for a bad list limit). Deterministic: the same topology, sites and withdrawn set
 * give the same result, whatever the input order.
 */
export function simulate(topology: Topology, sites: readonly Site[], options: SimulateOptions = {}): SimulationResult {
  validateSites(topology, sites);
  const listLimit = options.unreachableListLimit ?? DEFAULT_UNREACHABLE_LIST_LIMIT;
  if (!Number.isInteger(listLimit) || listLimit < 0) throw new RangeError('unreachableListLimit must be a non-negative integer');
  sites = Object.freeze(sites.map((site) => Object.freeze({ ...site, upstreams: Object.freeze([...site.upstreams]) })));
  const withdrawn = new Set(options.withdrawn ?? []);
  const n = topology.size;
  const S = sites.length;
  const { asns, upwardOrder, providerOffsets, providers, customerOffsets, customers, peerOffsets, peers } = topology;

  const table: SiteTable = {
    announced: new Uint8Array(S),
    originAsn: new Float64Array(S),
    pathLength: new Int32Array(S),
    origin: new Int32Array(S),
    med: new Float64Array(S),
  };
  const learned = new Uint8Array(n);
  const attachHead = new Int32Array(n).fill(-1);
  const attachNext: number[] = [];
  const attachSite: number[] = [];
  for (let s = 0; s < S; s++) {
    const site = sites[s];
    table.announced[s] = withdrawn.has(site.region) ? 0 : 1;
    table.originAsn[s] = site.originAsn;
    table.pathLength[s] = 1 + site.prepend;
    table.origin[s] = ORIGIN_ORDER.indexOf(site.origin ?? 'igp');
    table.med[s] = site.med ?? 0;
    if (!table.announced[s]) continue;
    // The operator's own AS, if the topology has it, originates through its sites: it takes no
    // route (every path would contain its ASN) and re-announces nothing.
    const self = topology.indexOf(site.originAsn);
    if (self >= 0) learned[self] = ORIGIN_AS;
    for (const upstream of site.upstreams) {
      const u = topology.indexOf(upstream);
      attachNext.push(attachHead[u]);
      attachSite.push(s);
      attachHead[u] = attachNext.length - 1;
    }
  }

  const siteOf = new Int32Array(n).fill(-1);
  const pathLength = new Int32Array(n);
  const nextHop = new Int32Array(n);
  const reason = new Uint8Array(n);
  const depth = new Int32Array(n);
  const fold = new Fold();
  let updates = 0;

  const onChain = (v: number, from: number): boolean => {
    for (let x = from; x >= 0; x = nextHop[x]) if (x === v) return true;
    return false;
  };
  const take = (v: number, cls: number): void => {
    learned[v] = cls;
    siteOf[v] = fold.site;
    pathLength[v] = fold.len;
    nextHop[v] = fold.nextHop;
    reason[v] = fold.reason;
    depth[v] = fold.depth;
  };

  // Phase 1: up the customer -> provider order.
  let upRounds = 0;
  for (let k = 0; k < n; k++) {
    const v = upwardOrder[k];
    if (learned[v] === ORIGIN_AS) continue;
    fold.reset();
    for (let a = attachHead[v]; a >= 0; a = attachNext[a]) {
      const s = attachSite[a];
      updates++;
      if (upRounds < 1) upRounds = 1;
      fold.offer(table.pathLength[s], table.origin[s], table.originAsn[s], table.med[s], s, -1 - s, 1);
    }
    for (let e = customerOffsets[v]; e < customerOffsets[v + 1]; e++) {
      const c = customers[e];
      if (learned[c] !== CUSTOMER) continue;
      updates++;
      const d = depth[c] + 1;
      if (d > upRounds) upRounds = d;
      const s = siteOf[c];
      fold.offer(pathLength[c] + 1, table.origin[s], asns[c], 0, s, c, d);
    }
    if (fold.count > 0) take(v, CUSTOMER);
  }

  // Phase 2: across one peer hop; peers export customer routes only.
  let peerRound = 0;
  for (let v = 0; v < n; v++) {
    const cls = learned[v];
    if (cls === ORIGIN_AS) continue;
    fold.reset();
    for (let e = peerOffsets[v]; e < peerOffsets[v + 1]; e++) {
      const p = peers[e];
      if (learned[p] !== CUSTOMER) continue;
      updates++;
      peerRound = 1;
      if (cls === CUSTOMER) {
        if (reason[v] === ONLY_ROUTE && !onChain(v, p)) reason[v] = BY_LOCAL_PREF;
        continue;
      }
      if (onChain(v, p)) continue;
      const s = siteOf[p];
      fold.offer(pathLength[p] + 1, table.origin[s], asns[p], 0, s, p, 0);
    }
    if (cls === NONE && fold.count > 0) take(v, PEER);
  }

  // Phase 3: down the provider -> customer order; providers export everything to customers.
  let downRounds = 0;
  for (let k = n - 1; k >= 0; k--) {
    const v = upwardOrder[k];
    const cls = learned[v];
    if (cls === ORIGIN_AS) continue;
    fold.reset();
    for (let e = providerOffsets[v]; e < providerOffsets[v + 1]; e++) {
      const p = providers[e];
      const pcls = learned[p];
      if (pcls === NONE || pcls === ORIGIN_AS) continue;
      updates++;
      const d = (pcls === PROVIDER ? depth[p] : 0) + 1;
      if (d > downRounds) downRounds = d;
      if (cls === CUSTOMER || cls === PEER) {
        if (reason[v] === ONLY_ROUTE && !onChain(v, p)) reason[v] = BY_LOCAL_PREF;
        continue;
      }
      if (onChain(v, p)) continue;
      const s = siteOf[p];
      fold.offer(pathLength[p] + 1, table.origin[s], asns[p], 0, s, p, d);
    }
    if (cls === NONE && fold.count > 0) take(v, PROVIDER);
  }

  return new SimulationResult(
    topology,
    sites,
    withdrawn,
    table,
    { siteOf, pathLength, nextHop, reason, learned },
    { rounds: upRounds + peerRound + downRounds, updates },
    listLimit,
  );
}

interface PerAs {
  siteOf: Int32Array;
  pathLength: Int32Array;
  nextHop: Int32Array;
  reason: Uint8Array;
  learned: Uint8Array;
}

/** Unit vectors of located ASes, per topology (for nearest-site search by dot product). */
const unitVectorCache = new WeakMap<Topology, Float64Array>();

function unitVector(lat: number, lon: number, out: Float64Array, at: number): void {
  const phi = (lat * Math.PI) / 180;
  const lambda = (lon * Math.PI) / 180;
  out[at] = Math.cos(phi) * Math.cos(lambda);
  out[at + 1] = Math.cos(phi) * Math.sin(lambda);
  out[at + 2] = Math.sin(phi);
}

function unitVectorsOf(topology: Topology): Float64Array {
  let vectors = unitVectorCache.get(topology);
  if (!vectors) {
    vectors = new Float64Array(topology.size * 3).fill(NaN);
    for (let i = 0; i < topology.size; i++) {
      if (topology.isLocated(i)) unitVector(topology.latitudes[i], topology.longitudes[i], vectors, i * 3);
    }
    unitVectorCache.set(topology, vectors);
  }
  return vectors;
}

/** Two distances closer than this (km) count as equally near. */
const SAME_DISTANCE_KM = 1e-6;

/**
 * The outcome of one simulation. Per-AS data is dense (indexed like the topology) and read-only
 * by contract; everything else is frozen.
 */
export class SimulationResult {
  readonly withdrawn: ReadonlySet<string>;
  /** Per site: announced (not withdrawn). */
  readonly announced: readonly boolean[];
  /** Per AS: index of the chosen site, or -1. */
  readonly siteOf: Int32Array;
  /** Per AS: length of the AS path it holds (prepends included); 0 without a route. */
  readonly pathLength: Int32Array;
  /** Per AS: the neighbour AS index its route came from, or -1 - site for a route straight from a site. */
  readonly nextHop: Int32Array;
  /** Per AS: index into DECISION_REASONS; meaningful when siteOf >= 0. */
  readonly reasonCode: Uint8Array;
  /** Per AS: 0 none, 1 customer, 2 peer, 3 provider, 4 origin (see `learnedFromAt`). */
  readonly learnedCode: Uint8Array;
  readonly reached: number;
  readonly catchments: Readonly<Record<string, Catchment>>;
  readonly unreachable: number;
  /** The first `unreachableListLimit` unreachable ASNs, ascending. */
  readonly unreachableAsns: readonly number[];
  /** ASes in the topology that are the origin ASN of an announced site (status `origin`). */
  readonly originAsns: readonly number[];
  readonly convergence: Convergence;
  readonly efficiency: Efficiency;
  /** Per AS: nearest announced site by great-circle distance, -1 if unlocated or none announced. */
  readonly nearestSite: Int32Array;
  readonly #extraKm: Float64Array;
  readonly #originAttribute: Int32Array;
  readonly #pathLengthOfSite: Int32Array;
  readonly #unreachableListLimit: number;

  /** @internal Made by `simulate`. */
  constructor(
    readonly topology: Topology,
    readonly sites: readonly Site[],
    withdrawn: ReadonlySet<string>,
    table: SiteTable,
    perAs: PerAs,
    convergence: Convergence,
    unreachableListLimit: number,
  ) {
    this.withdrawn = withdrawn;
    this.announced = Object.freeze(Array.from(table.announced, (a) => a === 1));
    this.siteOf = perAs.siteOf;
    this.pathLength = perAs.pathLength;
    this.nextHop = perAs.nextHop;
    this.reasonCode = perAs.reason;
    this.learnedCode = perAs.learned;
    this.#originAttribute = table.origin;
    this.#pathLengthOfSite = table.pathLength;
    this.convergence = Object.freeze(convergence);
    this.#unreachableListLimit = unreachableListLimit;

    const n = topology.size;
    const perSite = new Array<number>(sites.length).fill(0);
    const unreachableAsns: number[] = [];
    const originAsns: number[] = [];
    let reached = 0;
    let unreachable = 0;
    for (let v = 0; v < n; v++) {
      const s = this.siteOf[v];
      if (s >= 0) {
        perSite[s]++;
        reached++;
      } else if (this.learnedCode[v] === ORIGIN_AS) {
        originAsns.push(topology.asns[v]);
      } else {
        unreachable++;
        if (unreachableAsns.length < unreachableListLimit) unreachableAsns.push(topology.asns[v]);
      }
    }
    this.reached = reached;
    this.unreachable = unreachable;
    this.unreachableAsns = Object.freeze(unreachableAsns);
    this.originAsns = Object.freeze(originAsns);
    this.catchments = Object.freeze(
      Object.fromEntries(sites.map((site, s) => [site.region, Object.freeze({ ases: perSite[s], share: reached ? perSite[s] / reached : 0 })])),
    );

    const { nearestSite, extraKm, efficiency } = this.measureEfficiency();
    this.nearestSite = nearestSite;
    this.#extraKm = extraKm;
    this.efficiency = efficiency;
    Object.freeze(this);
  }

  private measureEfficiency(): { nearestSite: Int32Array; extraKm: Float64Array; efficiency: Efficiency } {
    const { topology, sites } = this;
    const n = topology.size;
    const nearestSite = new Int32Array(n).fill(-1);
    const extraKm = new Float64Array(n).fill(NaN);
    const announced: number[] = [];
    this.announced.forEach((a, s) => a && announced.push(s));
    const k = announced.length;
    const siteVectors = new Float64Array(k * 3);
    announced.forEach((s, j) => unitVector(sites[s].latitude, sites[s].longitude, siteVectors, j * 3));
    const vectors = unitVectorsOf(topology);
    let located = 0;
    let nonNearest = 0;
    let extraSum = 0;
    for (let v = 0; v < n; v++) {
      const x = vectors[v * 3];
      if (Number.isNaN(x) || k === 0) continue;
      const y = vectors[v * 3 + 1];
      const z = vectors[v * 3 + 2];
      let bestJ = 0;
      let bestDot = -Infinity;
      for (let j = 0, o = 0; j < k; j++, o += 3) {
        // Largest dot product = smallest angle = nearest on the sphere.
        const dot = x * siteVectors[o] + y * siteVectors[o + 1] + z * siteVectors[o + 2];
        if (dot > bestDot) {
          bestDot = dot;
          bestJ = j;
        }
      }
      const best = announced[bestJ];
      nearestSite[v] = best;
      const chosen = this.siteOf[v];
      if (chosen < 0) continue;
      const lat = topology.latitudes[v];
      const lon = topology.longitudes[v];
      const dChosen = greatCircleDistanceKm(lat, lon, sites[chosen].latitude, sites[chosen].longitude);
      const dNearest = greatCircleDistanceKm(lat, lon, sites[best].latitude, sites[best].longitude);
      const extra = Math.max(0, dChosen - dNearest);
      extraKm[v] = extra;
      located++;
      extraSum += extra;
      if (extra > SAME_DISTANCE_KM) nonNearest++;
    }
    return {
      nearestSite,
      extraKm,
      efficiency: Object.freeze({
        locatedAses: located,
        nonNearestShare: located ? nonNearest / located : 0,
        meanExtraKm: located ? extraSum / located : 0,
      }),
    };
  }

  /** The options this result was computed with (for re-running a what-if). */
  get options(): SimulateOptions {
    return { withdrawn: this.withdrawn, unreachableListLimit: this.#unreachableListLimit };
  }

  /** Distance (km) beyond the nearest announced site for a located, routed AS; NaN otherwise. */
  extraKmAt(index: number): number {
    return this.#extraKm[index];
  }

  statusAt(index: number): AsStatus {
    if (this.siteOf[index] >= 0) return 'routed';
    return this.learnedCode[index] === ORIGIN_AS ? 'origin' : 'unreachable';
  }

  learnedFromAt(index: number): LearnedFrom | null {
    return LEARNED[this.learnedCode[index]];
  }

  reasonAt(index: number): DecisionReason | null {
    return this.siteOf[index] >= 0 ? DECISION_REASONS[this.reasonCode[index]] : null;
  }

  /** The AS path the AS at `index` holds (neighbour first, prepends included); [] without a route. */
  asPathAt(index: number): number[] {
    if (this.siteOf[index] < 0) return [];
    const path: number[] = [];
    let x = this.nextHop[index];
    while (x >= 0) {
      path.push(this.topology.asns[x]);
      x = this.nextHop[x];
    }
    const site = -1 - x;
    for (let i = 0; i < this.#pathLengthOfSite[site]; i++) path.push(this.sites[site].originAsn);
    return path;
  }

  /** Everything known about the AS at a dense index. */
  routeAt(index: number): AsRouteReport {
    const asn = this.topology.asns[index];
    const status = this.statusAt(index);
    if (status !== 'routed') {
      return Object.freeze({ asn, status, region: null, site: -1, reason: null, learnedFrom: status === 'origin' ? 'origin' : null, route: null });
    }
    const site = this.siteOf[index];
    const learnedFrom = LEARNED[this.learnedCode[index]] as Exclude<LearnedFrom, 'origin'>;
    const asPath = Object.freeze(this.asPathAt(index));
    const route: Route = Object.freeze({
      prefixOwner: site,
      asPath,
      origin: ORIGIN_ORDER[this.#originAttribute[site]],
      med: this.nextHop[index] < 0 ? (this.sites[site].med ?? 0) : 0,
      learnedFrom,
      neighborAsn: asPath[0],
      localPref: LOCAL_PREF[learnedFrom],
    });
    return Object.freeze({
      asn,
      status,
      region: this.sites[site].region,
      site,
      reason: DECISION_REASONS[this.reasonCode[index]],
      learnedFrom,
      route,
    });
  }

  /** The report for an ASN, or null if the topology has no such AS. */
  routeFor(asn: number): AsRouteReport | null {
    const index = this.topology.indexOf(asn);
    return index < 0 ? null : this.routeAt(index);
  }

  /**
   * How often anycast agrees with a proximity policy, over the located ASes that reach a site.
   * Without `assign`, the policy is "nearest announced site by great-circle distance" (equal
   * distances agree). With `assign`, an AS agrees when it returns the region of the AS's site.
   */
  geoDnsAgreement(assign?: ProximityAssignment): GeoDnsAgreement {
    const announcedRegions = this.sites.filter((_, s) => this.announced[s]).map((site) => site.region);
    let located = 0;
    let agreeing = 0;
    for (let v = 0; v < this.topology.size; v++) {
      const site = this.siteOf[v];
      if (site < 0 || !this.topology.isLocated(v)) continue;
      located++;
      if (assign) {
        if (assign(this.topology.attributesAt(v), announcedRegions) === this.sites[site].region) agreeing++;
      } else if (this.#extraKm[v] <= SAME_DISTANCE_KM) {
        agreeing++;
      }
    }
    return Object.freeze({ locatedAses: located, agreeing, share: located ? agreeing / located : 0 });
  }

  /** A JSON-ready summary (no per-AS data). */
  summary(): SimulationSummary {
    return Object.freeze({
      sites: Object.freeze(
        this.sites.map((site, s) => Object.freeze({ region: site.region, originAsn: site.originAsn, announced: this.announced[s] })),
      ),
      ases: this.topology.size,
      reached: this.reached,
      unreachable: this.unreachable,
      unreachableAsns: this.unreachableAsns,
      originAsns: this.originAsns,
      catchments: this.catchments,
      convergence: this.convergence,
      efficiency: this.efficiency,
    });
  }
}

export interface CatchmentFlow {
  /** Region before (null: unreachable or origin). */
  readonly from: string | null;
  /** Region after (null: unreachable or origin). */
  readonly to: string | null;
  readonly ases: number;
}

export interface SimulationDiff {
  /** ASes whose region changed. */
  readonly moved: number;
  /** Non-empty flows between regions, largest first. */
  readonly flows: readonly CatchmentFlow[];
}

/** Which ASes moved between two results over the same topology (compared by region name). */
export function diffResults(before: SimulationResult, after: SimulationResult): SimulationDiff {
  if (before.topology !== after.topology) throw new Error('diffResults needs two results over the same topology');
  const regionOf = (r: SimulationResult, v: number) => (r.siteOf[v] >= 0 ? r.sites[r.siteOf[v]].region : null);
  const flows = new Map<string, { from: string | null; to: string | null; ases: number }>();
  let moved = 0;
  for (let v = 0; v < before.topology.size; v++) {
    const from = regionOf(before, v);
    const to = regionOf(after, v);
    if (from === to) continue;
    moved++;
    const key = JSON.stringify([from, to]);
    const flow = flows.get(key);
    if (flow) flow.ases++;
    else flows.set(key, { from, to, ases: 1 });
  }
  const list = [...flows.values()]
    .sort((a, b) => b.ases - a.ases || String(a.from).localeCompare(String(b.from)) || String(a.to).localeCompare(String(b.to)))
    .map((f) => Object.freeze(f));
  return Object.freeze({ moved, flows: Object.freeze(list) });
}

/** What-if: the same simulation with one more region withdrawn, and which ASes move. */
export function whatIfWithdraw(base: SimulationResult, region: string): { result: SimulationResult; diff: SimulationDiff } {
  const withdrawn = new Set(base.withdrawn);
  withdrawn.add(region);
  const result = simulate(base.topology, base.sites, { ...base.options, withdrawn });
  return { result, diff: diffResults(base, result) };
}
