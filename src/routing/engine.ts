/**
 * The routing decision: decide(snapshot, query) -> Decision. Pure and synchronous; it reads only
 * its arguments, never throws for well-formed input, and allocates little beyond its result.
 *
 * The decision process, in order (abh/geodns: gather every candidate first, then filter):
 *  1. candidates: every region of the service, ordered by the service's policy;
 *  2. residency: a GDPR-resident service and an EU client (or an unlocated client of a
 *     'treat-as-eu' service) allow EU-jurisdiction regions only; no non-drained EU region ->
 *     refused ('residency-no-eligible-region'). No later step can re-admit a disallowed region;
 *  3. health: routable = not drained and not unhealthy ('unknown' routes). If no allowed region is
 *     routable: 'fail-closed' -> refused; 'fail-open' -> the allowed, non-drained regions
 *     (drained regions are never answered, so all-drained is refused);
 *  4. pick: the first answerCount remaining regions, in policy order, that have an endpoint of the
 *     asked family (A -> ipv4, AAAA -> ipv6); none -> an answer without addresses ('no-address').
 *
 * Replicated services (replication.ts) add, after residency:
 *  - writes to an active-passive service (a write name, or access 'write') may go to the primary
 *    only: an EU client of a GDPR service whose primary is outside the EU is refused
 *    ('residency-primary-outside-eu'); otherwise the answer is the primary ('write-primary'), or,
 *    when it is unhealthy, the primary anyway if failing open;
 *  - reads of an active-passive service treat stale replicas like unhealthy regions (not routable;
 *    failing open may still use them);
 *  - active-active services route reads and writes alike, naming the conflict resolution.
 */
import { failoverPolicy } from './failover.policy';
import { greatCircleDistanceKm } from './geo-distance';
import { geolocationPolicy } from './geolocation.policy';
import { isEuCountry } from './jurisdiction';
import type { PolicyRanking, RoutingPolicy } from './policy';
import { latencyPolicy } from './latency.policy';
import { proximityPolicy } from './proximity.policy';
import { clientHashKey } from './rendezvous';
import { replicationView, type ReplicationView } from './replication';
import { regionFlags, refusalDetail, select, Selection, type SelectionInput } from './select';
import { planFor, type ServicePlan } from './service-plan';
import { REGION_DRAINED, REGION_UNHEALTHY } from './types';
import { MIN_MEASURED_REGIONS, type LatencyLevel } from './latency';
import type {
  Candidate,
  CandidateLatency,
  ClientInfo,
  Decision,
  ExclusionReason,
  GeoLocation,
  Policy,
  Reason,
  RegionSnap,
  RouteQuery,
  RoutingSnapshot,
  ServiceSnap,
} from './types';
import { weightedPolicy } from './weighted.policy';

const POLICIES: Readonly<Record<Policy, RoutingPolicy>> = Object.freeze({
  proximity: proximityPolicy,
  failover: failoverPolicy,
  weighted: weightedPolicy,
  geolocation: geolocationPolicy,
  latency: latencyPolicy,
});

/** How the pick treats health: among routable regions, or failing open among non-drained ones. */
type PickMode = 'routable' | 'fail-open';

/** Decides the answer for one query, or null when query.fqdn is not a service of the snapshot. */
export function decide(snapshot: RoutingSnapshot, query: RouteQuery): Decision | null {
  const service = snapshot.services.get(query.fqdn);
  if (service === undefined) return null;
  const plan = planFor(snapshot, service);
  const { client } = query;
  const { location } = client;
  const regions = plan.regions;
  const n = regions.length;

  const distancesKm = hasCoordinates(location) ? distancesFrom(location, plan) : null;
  const policy = POLICIES[service.policy] ?? failoverPolicy;
  const ranking = policy({ plan, client, distancesKm, latency: snapshot.latency });
  const order = ranking.order;

  const euClient = isEuClient(location, service.unknownLocation === 'treat-as-eu');
  const residencyApplies = service.residency === 'gdpr' && euClient;
  // Replication: writes to an active-passive service go to the primary only; reads skip stale replicas.
  const repl = replicationView(plan);
  const write = service.writeOf !== undefined || query.access === 'write';
  const primaryOnly = repl !== null && repl.activePassive && write;
  const primaryIndex = repl === null ? -1 : repl.primaryIndex;
  const skipStale = repl !== null && repl.activePassive && !write && repl.staleCount > 0;
  const filter: Filter = { residencyApplies, primaryOnly, primaryIndex, skipStale, stale: repl?.stale ?? null };

  // Steps 2 to 4, residency, health and the pick: select.ts, shared with the table path.
  const family: Family = query.qtype === 'AAAA' ? 'ipv6' : query.qtype === 'HTTP' ? 'http' : 'ipv4';
  const input: SelectionInput = {
    plan,
    order,
    orderLength: order.length,
    state: snapshot.state,
    residencyApplies,
    primaryOnly,
    primaryIndex,
    skipStale,
    stale: filter.stale,
    hasAddress: hasAddressOf(plan, family),
  };
  const selection = select(input, new Selection());
  const scope = ecsScope(plan, client, primaryOnly);
  const insideEu = residencyApplies ? ' inside the EU' : '';
  if (selection.refusal !== null) {
    const candidates = buildCandidates(plan, snapshot, ranking, distancesKm, filter, repl, family, null);
    return decision('refused', service, [], [], scope, selection.refusal, refusalDetail(selection.refusal, input, selection), candidates);
  }
  const mode: PickMode = selection.failOpen ? 'fail-open' : 'routable';
  const chosen = new Array<boolean>(n).fill(false);
  const chosenNames: string[] = [];
  const addresses: string[] = [];
  for (let c = 0; c < selection.count; c++) {
    const region = regions[selection.chosen[c]];
    chosen[selection.chosen[c]] = true;
    chosenNames.push(region.name);
    for (const address of endpointsOf(region, family)) if (!addresses.includes(address)) addresses.push(address);
  }
  const firstChosenRank = selection.firstRank;
  const lastChosenRank = selection.lastRank;
  const allowedCount = selection.allowedCount;
  const servedByEntry = firstChosenRank >= 0 && lastChosenRank < ranking.matchedEntryLength;
  const candidates = buildCandidates(plan, snapshot, ranking, distancesKm, filter, repl, family, { chosen, mode, servedByEntry });

  let reason: Reason;
  let detail: string;
  const familyText = family === 'ipv4' ? 'IPv4 (A)' : family === 'ipv6' ? 'IPv6 (AAAA)' : 'HTTP (baseUrl)';
  if (firstChosenRank < 0) {
    reason = 'no-address';
    const which = mode === 'fail-open' ? 'non-drained' : 'routable';
    detail = `no ${which} region${insideEu} of service ${service.fqdn} has an ${familyText} address (NODATA)`;
  } else if (mode === 'fail-open') {
    reason = 'all-unhealthy-fail-open';
    const what = primaryOnly ? 'writes: the primary is not routable' : `no routable region${insideEu}`;
    const staleNote = skipStale ? ' (stale replicas count as not routable)' : '';
    detail = `${what} for service ${service.fqdn}${staleNote}; failing open to ${chosenNames.join(', ')}${insideEu} (whenAllUnhealthy=fail-open)`;
  } else if (primaryOnly) {
    reason = 'write-primary';
    const residencyNote = residencyApplies ? `; the client is ${euClientText(location)} and the primary is in the EU` : '';
    detail = `writes to service ${plan.service.writeOf ?? service.fqdn} go to its primary ${chosenNames[0]} (active-passive)${residencyNote}`;
  } else {
    const policyReason = ranking.reasons[firstChosenRank];
    const policyDetail = describePolicyPick(policyReason, plan, ranking, firstChosenRank, distancesKm, client);
    if (residencyApplies && allowedCount < n) {
      reason = 'residency-eu-only';
      detail = `service ${service.fqdn} is GDPR-resident and the client is ${euClientText(location)}: only EU regions were considered; ${policyDetail}`;
    } else {
      reason = policyReason;
      detail = policyDetail;
    }
    if (repl !== null) detail += replicationNote(service, repl, plan, write);
  }
  return decision('answer', service, chosenNames, addresses, scope, reason, detail, candidates);
}

/** What the replication filter needs per region. */
interface Filter {
  readonly residencyApplies: boolean;
  /** A write to an active-passive service: only the primary may answer. */
  readonly primaryOnly: boolean;
  readonly primaryIndex: number;
  /** A read of an active-passive service with stale replicas: they are not routable. */
  readonly skipStale: boolean;
  readonly stale: readonly boolean[] | null;
}

/** The replication part of an answer's detail (replicated services answered by their policy). */
function replicationNote(service: ServiceSnap, repl: ReplicationView, plan: ServicePlan, write: boolean): string {
  const replication = service.replication!;
  if (!repl.activePassive) {
    return `; active-active: ${write ? 'writes' : 'reads'} go to the nearest usable region, conflicts resolved by ${replication.conflictResolution}`;
  }
  if (replication.maxStalenessMs === null) return '; active-passive without a staleness bound: every replica serves reads';
  if (repl.staleCount === 0) return `; active-passive: every replica is within maxStalenessMs ${replication.maxStalenessMs}`;
  const stale: string[] = [];
  for (let i = 0; i < plan.regions.length; i++) if (repl.stale[i]) stale.push(plan.regions[i].name);
  return `; active-passive: stale replicas not used for reads: ${stale.join(', ')}`;
}

/** One literal shape for every Decision (object spread here costs more than the rest of decide). */
function decision(
  outcome: 'answer' | 'refused',
  service: ServiceSnap,
  regions: string[],
  addresses: string[],
  ecsScope: number,
  reason: Reason,
  detail: string,
  candidates: Candidate[],
): Decision {
  return { outcome, service: service.fqdn, regions, addresses, ttl: service.ttl, ecsScope, reason, detail, candidates };
}

/** The client counts as in the EU when its country is EU/EEA, or it is unlocated and the service says treat-as-eu. */
function isEuClient(location: GeoLocation, unknownIsEu: boolean): boolean {
  return location.country ? isEuCountry(location.country) : unknownIsEu;
}

function euClientText(location: GeoLocation): string {
  return location.country ? `in the EU (${location.country})` : 'not located and the service treats unlocated clients as EU';
}

function hasCoordinates(location: GeoLocation): boolean {
  return (
    location.latitude !== null &&
    location.longitude !== null &&
    Number.isFinite(location.latitude) &&
    Number.isFinite(location.longitude)
  );
}

function distancesFrom(location: GeoLocation, plan: ServicePlan): number[] {
  const lat = location.latitude as number;
  const lon = location.longitude as number;
  const regions = plan.regions;
  const distances = new Array<number>(regions.length);
  for (let i = 0; i < regions.length; i++) {
    const km = greatCircleDistanceKm(lat, lon, regions[i].latitude, regions[i].longitude);
    distances[i] = Math.round(km * 10) / 10;
  }
  return distances;
}

interface PickResult {
  readonly chosen: readonly boolean[];
  readonly mode: PickMode;
  /** Every chosen region came from a matched geolocation entry. */
  readonly servedByEntry: boolean;
}

function levelText(level: LatencyLevel): string {
  return level === 'class' ? 'location class' : level;
}

/** What an exclusion rule sees about one candidate. */
interface CandidateFacts {
  readonly index: number;
  readonly rank: number;
  readonly flags: number;
  readonly allowed: boolean;
  readonly filter: Filter;
  readonly failingOpen: boolean;
  readonly hasAddress: boolean;
  readonly pick: PickResult | null;
  readonly matchedEntryLength: number;
}

/**
 * Why an unchosen candidate was not answered: the first rule that holds, in this order. The
 * list is the documentation (types.ts ExclusionReason says the same); select.ts applies the
 * same rules to choose.
 */
const EXCLUSION_RULES: readonly (readonly [ExclusionReason, (c: CandidateFacts) => boolean])[] = [
  ['drained', (c) => (c.flags & REGION_DRAINED) !== 0],
  ['residency', (c) => !c.allowed],
  ['not-primary', (c) => c.filter.primaryOnly && c.index !== c.filter.primaryIndex],
  ['unhealthy', (c) => (c.flags & REGION_UNHEALTHY) !== 0 && !c.failingOpen],
  ['replica-stale', (c) => c.filter.skipStale && c.filter.stale![c.index] && !c.failingOpen],
  ['no-address', (c) => !c.hasAddress],
  ['not-in-geolocation-entry', (c) => c.pick !== null && c.pick.servedByEntry && c.rank >= c.matchedEntryLength],
];

/** Candidates in policy order, each unchosen one with the first EXCLUSION_RULES entry that holds. */
function buildCandidates(
  plan: ServicePlan,
  snapshot: RoutingSnapshot,
  ranking: PolicyRanking,
  distancesKm: readonly number[] | null,
  filter: Filter,
  repl: ReplicationView | null,
  family: Family,
  pick: PickResult | null,
): Candidate[] {
  const { order, matchedEntryLength } = ranking;
  const service = plan.service;
  const candidates = new Array<Candidate>(order.length);
  const failingOpen = pick?.mode === 'fail-open';
  const hasAddress = hasAddressOf(plan, family);
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const region = plan.regions[i];
    const flags = regionFlags(plan, snapshot.state, i);
    const healthy = flags === 0;
    const allowed = !filter.residencyApplies || plan.isEu[i];
    const distanceKm = distancesKm === null ? null : distancesKm[i];
    const chosen = pick !== null && pick.chosen[i];
    let excludedBecause: ExclusionReason | undefined;
    if (!chosen) {
      const facts: CandidateFacts = { index: i, rank: k, flags, allowed, filter, failingOpen, hasAddress: hasAddress[i], pick, matchedEntryLength };
      for (const [reason, holds] of EXCLUSION_RULES) {
        if (holds(facts)) {
          excludedBecause = reason;
          break;
        }
      }
    }
    if (service.policy === 'latency') {
      const latency = candidateLatency(ranking, plan.regionIds[i], k);
      const base = { region: region.name, distanceKm, healthy, allowed, chosen };
      candidates[k] = Object.assign(
        base,
        repl === null ? {} : { role: repl.roles[i], lagMs: repl.lagMs[i] },
        excludedBecause === undefined ? {} : { excludedBecause },
        { latency },
      );
    } else if (repl !== null) {
      const role = repl.roles[i];
      const lagMs = repl.lagMs[i];
      candidates[k] =
        excludedBecause === undefined
          ? { region: region.name, distanceKm, healthy, allowed, chosen, role, lagMs }
          : { region: region.name, distanceKm, healthy, allowed, chosen, role, lagMs, excludedBecause };
    } else {
      candidates[k] =
        excludedBecause === undefined
          ? { region: region.name, distanceKm, healthy, allowed, chosen }
          : { region: region.name, distanceKm, healthy, allowed, chosen, excludedBecause };
    }
  }
  return candidates;
}

/** A latency candidate's evidence: its entry in the row used (measured ranks), else the distance fallback. */
function candidateLatency(ranking: PolicyRanking, id: number, rank: number): CandidateLatency {
  const row = ranking.latencyRow;
  if (row === null || row === undefined || rank >= (ranking.measuredLength ?? 0)) return { level: 'distance-fallback' };
  for (let k = 0; k < row.ids.length; k++) {
    if (row.ids[k] === id) return { level: row.level, rttMs: row.rttMs[k], samples: row.samples[k], sources: row.sources[k] };
  }
  return { level: 'distance-fallback' };
}

/** The operator sentence for a policy reason (the region at `rank` being the first chosen). */
function describePolicyPick(
  reason: Reason,
  plan: ServicePlan,
  ranking: PolicyRanking,
  rank: number,
  distancesKm: readonly number[] | null,
  client: ClientInfo,
): string {
  const index = ranking.order[rank];
  const name = plan.regions[index].name;
  const km = distancesKm === null ? '' : ` (${distancesKm[index]} km)`;
  const { country, continent } = client.location;
  switch (reason) {
    case 'nearest-healthy':
      return `${name} is the nearest routable region${km}`;
    case 'failover-primary':
      return `primary region ${name} is routable`;
    case 'failover-next':
      return `primary region ${plan.regions[0].name} is not usable; failed over to ${name}`;
    case 'weighted':
      return `${name} chosen by weighted rendezvous hashing of ${clientHashKey(client.ip, client.family)}`;
    case 'geolocation-country':
      return `geolocation entry ${country} matched: ${name}`;
    case 'geolocation-continent':
      return `geolocation entry continent:${continent} matched: ${name}`;
    case 'geolocation-default':
      return `geolocation entry * matched: ${name}`;
    case 'geolocation-nearest':
      return ranking.matchedEntryLength > 0
        ? `no region of the matched geolocation entries is usable; nearest routable region ${name}${km}`
        : `no geolocation entry matched; nearest routable region ${name}${km}`;
    case 'lowest-latency': {
      const row = ranking.latencyRow!;
      const k = row.ids.indexOf(plan.regionIds[index]);
      return `${name} has the lowest measured round-trip time among routable regions (${row.rttMs[k]} ms median, ${row.samples[k]} samples from ${row.sources[k]} sources, evidence at ${levelText(row.level)} ${row.key})`;
    }
    case 'latency-distance-fallback':
      return ranking.latencyRow
        ? `no measured region is usable; nearest routable region by distance ${name}${km} (distance fallback)`
        : `too little trusted latency evidence for ${clientHashKey(client.ip, client.family)} (at least ${MIN_MEASURED_REGIONS} of the service's regions measured at /24, /20, /16, location class or country): nearest routable region by distance ${name}${km} (distance fallback)`;
    case 'unknown-location':
      return `client location unknown; first usable region in the service's order: ${name}`;
    default:
      return `${name}`;
  }
}

/**
 * ECS scope (RFC 7871): how many leading bits of the client address the answer depended on.
 * - 0 when every client gets the same answer: a failover service, one with a single region, or a
 *   write to an active-passive service (always the primary), unless residency can tell clients
 *   apart (a GDPR service with a region outside the EU);
 * - the geo network's prefix length when the answer depended on location (proximity,
 *   geolocation, residency); 24 / 48 if the geo database reported none;
 * - weighted: at least 24 (IPv4) / 48 (IPv6), the width rendezvous hashing keys on;
 * - never more than 32 (IPv4) / 128 (IPv6).
 * It depends on the service and the client only, never on health, so caches stay correct
 * when health changes.
 */
function ecsScope(plan: ServicePlan, client: ClientInfo, primaryOnly: boolean): number {
  return ecsScopeOf(plan, client.family, client.location.prefixLength, primaryOnly);
}

/** ecsScope from its parts: the client's family and the prefix length of its geo network. */
export function ecsScopeOf(plan: ServicePlan, family: 4 | 6, prefixLength: number, primaryOnly: boolean): number {
  const maxBits = family === 4 ? 32 : 128;
  const keyBits = family === 4 ? 24 : 48;
  const { service } = plan;
  // A write to an active-passive service answers the primary whatever the policy: only residency tells clients apart.
  const several = plan.regions.length > 1 && !primaryOnly;
  const residencyMatters = service.residency === 'gdpr' && plan.hasNonEuRegion;
  const byLocation = residencyMatters || (several && (service.policy === 'proximity' || service.policy === 'geolocation' || service.policy === 'latency'));
  const locationBits = prefixLength > 0 ? prefixLength : keyBits;
  let scope = byLocation ? locationBits : 0;
  // Weighted hashes the /24 or /48; latency evidence is per /24 or /48 at its most specific.
  if (several && (service.policy === 'weighted' || service.policy === 'latency')) scope = Math.max(scope, keyBits);
  return Math.min(scope, maxBits);
}

/** What an answer is made of: A -> IPv4 endpoints, AAAA -> IPv6 endpoints, HTTP -> the base URL (redirects). */
type Family = 'ipv4' | 'ipv6' | 'http';
const NO_ENDPOINTS: readonly string[] = Object.freeze([]);

/** Per position of the plan: has an endpoint of the family. */
function hasAddressOf(plan: ServicePlan, family: Family): readonly boolean[] {
  return family === 'ipv4' ? plan.hasIpv4 : family === 'ipv6' ? plan.hasIpv6 : plan.hasHttp;
}

function endpointsOf(region: RegionSnap, family: Family): readonly string[] {
  if (family === 'http') return region.baseUrl === null ? NO_ENDPOINTS : [region.baseUrl];
  return region[family];
}
