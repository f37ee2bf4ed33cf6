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
import { proximityPolicy } from './proximity.policy';
import { clientHashKey } from './rendezvous';
import { replicationView, type ReplicationView } from './replication';
import { planFor, type ServicePlan } from './service-plan';
import type {
  Candidate,
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
  const ranking = policy({ plan, client, distancesKm });
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

  // Steps 2 and 3, residency then health: count what each filter leaves.
  const family: Family = query.qtype === 'AAAA' ? 'ipv6' : query.qtype === 'HTTP' ? 'http' : 'ipv4';
  let allowedCount = 0;
  let residencyEligibleCount = 0; // allowed and not drained
  let eligibleCount = 0; // allowed, not drained, and a writer when writing
  let routableCount = 0; // eligible, not unhealthy, and not a stale replica when reading
  for (let i = 0; i < n; i++) {
    if (residencyApplies && !plan.isEu[i]) continue;
    allowedCount++;
    const region = regions[i];
    if (region.drained) continue;
    residencyEligibleCount++;
    if (primaryOnly && i !== primaryIndex) continue;
    eligibleCount++;
    if (region.health !== 'unhealthy' && !(skipStale && filter.stale![i])) routableCount++;
  }

  const scope = ecsScope(plan, client, primaryOnly);
  const insideEu = residencyApplies ? ' inside the EU' : '';
  const refuse = (reason: Reason, detail: string): Decision =>
    decision('refused', service, [], [], scope, reason, detail, buildCandidates(plan, ranking, distancesKm, filter, repl, family, null));

  if (primaryOnly && residencyApplies && primaryIndex >= 0 && !plan.isEu[primaryIndex]) {
    const primary = regions[primaryIndex];
    const detail = `service ${service.fqdn} is GDPR-resident and its primary ${primary.name} is in jurisdiction ${primary.jurisdiction}, outside the EU; writes from EU clients are refused`;
    return refuse('residency-primary-outside-eu', detail);
  }
  if (residencyApplies && residencyEligibleCount === 0) {
    const detail = plan.hasEuRegion
      ? `service ${service.fqdn} is GDPR-resident and every region it has in the EU jurisdiction is drained; EU clients cannot be served`
      : `service ${service.fqdn} is GDPR-resident and has no region in the EU jurisdiction; EU clients cannot be served`;
    return refuse('residency-no-eligible-region', detail);
  }
  let mode: PickMode = 'routable';
  if (routableCount === 0) {
    if (eligibleCount === 0) {
      let detail: string;
      if (n === 0) detail = `service ${service.fqdn} has no regions`;
      else if (primaryOnly) {
        const primary = primaryIndex >= 0 ? `its primary ${regions[primaryIndex].name} is drained` : 'its primary is not in the snapshot';
        detail = `writes to service ${service.fqdn} go to the primary only and ${primary}; drained regions are never answered`;
      } else detail = `every region of service ${service.fqdn} is drained; drained regions are never answered`;
      return refuse('all-unhealthy-fail-closed', detail);
    }
    if (service.whenAllUnhealthy === 'fail-closed') {
      const detail = `no routable region${insideEu} for service ${service.fqdn} and it fails closed (whenAllUnhealthy=fail-closed)`;
      return refuse('all-unhealthy-fail-closed', detail);
    }
    mode = 'fail-open';
  }

  // Step 4, pick: the first answerCount usable regions in policy order with an endpoint of the family.
  const chosen = new Array<boolean>(n).fill(false);
  const chosenNames: string[] = [];
  const addresses: string[] = [];
  let firstChosenRank = -1;
  let lastChosenRank = -1;
  for (let k = 0; k < order.length && chosenNames.length < service.answerCount; k++) {
    const i = order[k];
    const region = regions[i];
    if (residencyApplies && !plan.isEu[i]) continue;
    if (primaryOnly && i !== primaryIndex) continue;
    if (region.drained || (mode === 'routable' && (region.health === 'unhealthy' || (skipStale && filter.stale![i])))) continue;
    const endpoints = endpointsOf(region, family);
    if (endpoints.length === 0) continue;
    chosen[i] = true;
    chosenNames.push(region.name);
    for (const address of endpoints) if (!addresses.includes(address)) addresses.push(address);
    if (firstChosenRank < 0) firstChosenRank = k;
    lastChosenRank = k;
  }
  const servedByEntry = firstChosenRank >= 0 && lastChosenRank < ranking.matchedEntryLength;
  const candidates = buildCandidates(plan, ranking, distancesKm, filter, repl, family, { chosen, mode, servedByEntry });

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

/**
 * Candidates in policy order. excludedBecause (unchosen regions only) is the first that applies
 * of: drained, residency, unhealthy (not when failing open), no-address, not-in-geolocation-entry
 * (outside every matched entry while the entries served the whole answer).
 */
function buildCandidates(
  plan: ServicePlan,
  ranking: PolicyRanking,
  distancesKm: readonly number[] | null,
  filter: Filter,
  repl: ReplicationView | null,
  family: Family,
  pick: PickResult | null,
): Candidate[] {
  const { order, matchedEntryLength } = ranking;
  const candidates = new Array<Candidate>(order.length);
  const failingOpen = pick?.mode === 'fail-open';
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const region = plan.regions[i];
    const healthy = !region.drained && region.health !== 'unhealthy';
    const allowed = !filter.residencyApplies || plan.isEu[i];
    const distanceKm = distancesKm === null ? null : distancesKm[i];
    const chosen = pick !== null && pick.chosen[i];
    let excludedBecause: ExclusionReason | undefined;
    if (!chosen) {
      if (region.drained) excludedBecause = 'drained';
      else if (!allowed) excludedBecause = 'residency';
      else if (filter.primaryOnly && i !== filter.primaryIndex) excludedBecause = 'not-primary';
      else if (!healthy && !failingOpen) excludedBecause = 'unhealthy';
      else if (filter.skipStale && filter.stale![i] && !failingOpen) excludedBecause = 'replica-stale';
      else if (endpointsOf(region, family).length === 0) excludedBecause = 'no-address';
      else if (pick !== null && pick.servedByEntry && k >= matchedEntryLength) excludedBecause = 'not-in-geolocation-entry';
    }
    if (repl !== null) {
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
  const maxBits = client.family === 4 ? 32 : 128;
  const keyBits = client.family === 4 ? 24 : 48;
  const { service } = plan;
  // A write to an active-passive service answers the primary whatever the policy: only residency tells clients apart.
  const several = plan.regions.length > 1 && !primaryOnly;
  const residencyMatters = service.residency === 'gdpr' && plan.hasNonEuRegion;
  const byLocation = residencyMatters || (several && (service.policy === 'proximity' || service.policy === 'geolocation'));
  const prefix = client.location.prefixLength;
  const locationBits = prefix > 0 ? prefix : keyBits;
  let scope = byLocation ? locationBits : 0;
  if (several && service.policy === 'weighted') scope = Math.max(scope, keyBits);
  return Math.min(scope, maxBits);
}

/** What an answer is made of: A -> IPv4 endpoints, AAAA -> IPv6 endpoints, HTTP -> the base URL (redirects). */
type Family = 'ipv4' | 'ipv6' | 'http';
const NO_ENDPOINTS: readonly string[] = Object.freeze([]);

function endpointsOf(region: RegionSnap, family: Family): readonly string[] {
  if (family === 'http') return region.baseUrl === null ? NO_ENDPOINTS : [region.baseUrl];
  return region[family];
}
