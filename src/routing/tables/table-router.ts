/**
 * The table path of the decision: what the DNS server runs per query instead of decide(). The
 * client arrives as a location class (and the prefix length of its network); the order of the
 * service's regions comes from the class's row of the RegionRanking walked through the plan's
 * positionOf mask, and select.ts (shared with decide) applies residency, health and the pick.
 *
 * Contract: synchronous, allocation-free for proximity, failover and geolocation (weighted
 * hashes the client's /24 or /48 key, which the caller supplies); reads only immutable tables
 * and the snapshot's RegionState. The Selection it returns is reused by the next call.
 * Agreement with decide() for every client, service and state is the property test's job
 * (table-router.property.spec.ts).
 */
import { ecsScopeOf } from '../engine';
import { ENTRY_ID, ENTRY_TIE, planMask, type ClientNetwork } from '../latency';
import { rendezvousIndexOrder } from '../rendezvous';
import { replicationView } from '../replication';
import { Selection, select, type SelectionInput } from '../select';
import type { ServicePlan } from '../service-plan';
import type { Reason, RoutingSnapshot } from '../types';
import { EU_UNKNOWN, EU_YES, TRAIT_EU, TRAIT_LOCATED, type LocationClassTable } from './location-classes';
import { RANK_ID, RANK_TIE, type RegionRanking } from './region-ranking';

export type AnswerFamily = 'ipv4' | 'ipv6' | 'http';

/** The mutable twin of SelectionInput that one router reuses. */
type MutableInput = { -readonly [K in keyof SelectionInput]: SelectionInput[K] };

export class TableRouter {
  readonly selection = new Selection();
  /** The input of the last route() (refusalDetail reads it). */
  readonly input: SelectionInput;
  /** ECS scope of the last route(). */
  scope = 0;
  private order = new Int32Array(64);
  private taken = new Uint8Array(64);
  /** Geolocation: where the country, continent and "*" tiers end in the order. */
  private countryEnd = 0;
  private continentEnd = 0;
  private defaultEnd = 0;
  private located = false;
  /** Latency: where the measured regions end in the order. */
  private measuredEnd = 0;
  /** Latency: the region-id mask of the last plan routed (planMask). */
  private maskPlan: ServicePlan | null = null;
  private planMask = 0;

  constructor() {
    const input: MutableInput = {
      plan: null as unknown as ServicePlan,
      order: this.order,
      orderLength: 0,
      state: undefined,
      residencyApplies: false,
      primaryOnly: false,
      primaryIndex: -1,
      skipStale: false,
      stale: null,
      hasAddress: [],
    };
    this.input = input;
  }

  /**
   * Routes one client of class `classId` (network prefix `prefixLength`, address family
   * `clientFamily`) to `plan`'s service. `write`: a write (write name or unsafe method).
   * `clientKey` is called only for weighted services (the /24 or /48 the rendezvous hash keys on)
   * and for latency services when `network` (the client's /24 or /48 as a number, filled by a
   * caller that has the address octets) is absent or of family 0.
   */
  route(
    snapshot: RoutingSnapshot,
    plan: ServicePlan,
    classes: LocationClassTable,
    ranking: RegionRanking,
    classId: number,
    prefixLength: number,
    clientFamily: 4 | 6,
    family: AnswerFamily,
    write: boolean,
    clientKey: () => string,
    network: ClientNetwork | null = null,
  ): Selection {
    const service = plan.service;
    const n = plan.regions.length;
    if (n > this.order.length) {
      this.order = new Int32Array(n * 2);
      this.taken = new Uint8Array(n * 2);
    }
    const order = this.order;
    // One octet of the class for both questions asked of every query (coordinates? EU?).
    const traits = classes.traits[classId];
    const located = (traits & TRAIT_LOCATED) !== 0;
    this.located = located;
    switch (service.policy) {
      case 'proximity':
        if (located) this.byDistance(plan, ranking, classId, 0);
        else serviceOrder(order, n);
        break;
      case 'geolocation':
        this.geolocationOrder(plan, classes, ranking, classId, located);
        break;
      case 'latency':
        this.latencyOrder(snapshot, plan, classes, ranking, classId, located, clientKey, network);
        break;
      case 'weighted': {
        const ranked = rendezvousIndexOrder(clientKey(), plan.regions);
        for (let k = 0; k < n; k++) order[k] = ranked[k];
        break;
      }
      default:
        serviceOrder(order, n);
    }

    const eu = traits & TRAIT_EU;
    const euClient = eu === EU_UNKNOWN ? service.unknownLocation === 'treat-as-eu' : eu === EU_YES;
    const repl = replicationView(plan);
    const isWrite = service.writeOf !== undefined || write;
    const primaryOnly = repl !== null && repl.activePassive && isWrite;
    const input = this.input as MutableInput;
    input.plan = plan;
    input.order = order;
    input.orderLength = n;
    input.state = snapshot.state;
    input.residencyApplies = service.residency === 'gdpr' && euClient;
    input.primaryOnly = primaryOnly;
    input.primaryIndex = repl === null ? -1 : repl.primaryIndex;
    input.skipStale = repl !== null && repl.activePassive && !isWrite && repl.staleCount > 0;
    input.stale = repl === null ? null : repl.stale;
    input.hasAddress = family === 'ipv4' ? plan.hasIpv4 : family === 'ipv6' ? plan.hasIpv6 : plan.hasHttp;
    this.scope = ecsScopeOf(plan, clientFamily, prefixLength, primaryOnly);
    return select(input, this.selection);
  }

  /**
   * The Reason decide() gives for the last route() (for the per-answer counters): the refusal,
   * the fallbacks, residency, else the policy's reason for the first chosen region.
   */
  reason(): Reason {
    const sel = this.selection;
    const input = this.input;
    if (sel.refusal !== null) return sel.refusal;
    if (sel.count === 0) return 'no-address';
    if (sel.failOpen) return 'all-unhealthy-fail-open';
    if (input.primaryOnly) return 'write-primary';
    if (input.residencyApplies && sel.allowedCount < input.plan.regions.length) return 'residency-eu-only';
    const rank = sel.firstRank;
    switch (input.plan.service.policy) {
      case 'proximity':
        return this.located ? 'nearest-healthy' : 'unknown-location';
      case 'weighted':
        return 'weighted';
      case 'latency':
        if (rank < this.measuredEnd) return 'lowest-latency';
        return this.located ? 'latency-distance-fallback' : 'unknown-location';
      case 'geolocation':
        if (rank < this.countryEnd) return 'geolocation-country';
        if (rank < this.continentEnd) return 'geolocation-continent';
        if (rank < this.defaultEnd) return 'geolocation-default';
        return this.located ? 'geolocation-nearest' : 'unknown-location';
      default:
        return rank === 0 ? 'failover-primary' : 'failover-next';
    }
  }

  /**
   * Writes the positions of `plan`'s regions not yet taken into order[from..], nearest first,
   * equal distances in service order. Returns the new length.
   */
  private byDistance(plan: ServicePlan, ranking: RegionRanking, classId: number, from: number): number {
    const order = this.order;
    const taken = this.taken;
    const positionOf = plan.positionOf;
    const base = ranking.row(classId);
    const cells = ranking.cells;
    const r = ranking.regionCount;
    let count = from;
    let groupStart = from;
    for (let k = 0; k < r; k++) {
      const cell = cells[base + k];
      const id = (cell & RANK_ID) - 1;
      if ((cell & RANK_TIE) === 0) groupStart = count;
      const position = id < positionOf.length ? positionOf[id] : -1;
      if (position < 0 || taken[position] === 1) continue;
      // Insert into the current tie group by service position (ties are rare: groups are short).
      let j = count;
      while (j > groupStart && order[j - 1] > position) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = position;
      count++;
    }
    return count;
  }

  /**
   * The client network's measured regions (the first evidence level measuring two of the
   * service's regions) by RTT, ties in service order; then the rest by distance (service order
   * when unlocated). The same rule as latency.policy.ts.
   */
  private latencyOrder(
    snapshot: RoutingSnapshot,
    plan: ServicePlan,
    classes: LocationClassTable,
    ranking: RegionRanking,
    classId: number,
    located: boolean,
    clientKey: () => string,
    network: ClientNetwork | null,
  ): void {
    const n = plan.regions.length;
    const order = this.order;
    const taken = this.taken;
    const table = snapshot.latency;
    let count = 0;
    taken.fill(0, 0, n);
    if (table !== undefined) {
      if (plan !== this.maskPlan) {
        this.maskPlan = plan;
        this.planMask = planMask(plan);
      }
      const r = table.levelForClass(plan, this.planMask, network, clientKey, classes, classId);
      if (r >= 0) {
        const positionOf = plan.positionOf;
        const entries = table.entries;
        const meta = table.meta;
        const first = meta[3 * r];
        const end = first + meta[3 * r + 1];
        let groupStart = 0;
        for (let k = first; k < end; k++) {
          const entry = entries[k];
          const id = entry & ENTRY_ID;
          if ((entry & ENTRY_TIE) === 0) groupStart = count;
          const position = id < positionOf.length ? positionOf[id] : -1;
          if (position < 0) continue;
          let j = count;
          while (j > groupStart && order[j - 1] > position) {
            order[j] = order[j - 1];
            j--;
          }
          order[j] = position;
          taken[position] = 1;
          count++;
        }
      }
    }
    this.measuredEnd = count;
    if (located) this.byDistance(plan, ranking, classId, count);
    else for (let i = 0; i < n; i++) if (taken[i] === 0) order[count++] = i;
    taken.fill(0, 0, n);
  }

  /** Appends the positions of a geolocation entry not yet taken; returns the new length. */
  private addTier(positions: readonly number[] | null | undefined, n: number, count: number): number {
    if (!positions) return count;
    const order = this.order;
    const taken = this.taken;
    for (const position of positions) {
      if (position < n && taken[position] === 0) {
        taken[position] = 1;
        order[count++] = position;
      }
    }
    return count;
  }

  /** Country entry, continent entry, "*", then the rest by distance (service order when unlocated). */
  private geolocationOrder(plan: ServicePlan, classes: LocationClassTable, ranking: RegionRanking, classId: number, located: boolean): void {
    const n = plan.regions.length;
    const order = this.order;
    const taken = this.taken;
    taken.fill(0, 0, n);
    let count = 0;
    const country = classes.country(classId);
    if (country !== null) count = this.addTier(plan.byCountry.get(country), n, count);
    this.countryEnd = count;
    const continent = classes.continent(classId);
    if (continent !== null) count = this.addTier(plan.byContinent.get(continent), n, count);
    this.continentEnd = count;
    count = this.addTier(plan.byDefault, n, count);
    this.defaultEnd = count;
    if (located) this.byDistance(plan, ranking, classId, count);
    else for (let i = 0; i < n; i++) if (taken[i] === 0) order[count++] = i;
    taken.fill(0, 0, n);
  }
}

function serviceOrder(order: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) order[i] = i;
}
