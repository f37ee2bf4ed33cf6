/**
 * The routing engine's data contract. Everything here is plain, immutable data: no framework
 * types, no database entities. A RoutingSnapshot is built off the hot path (see snapshot.ts),
 * frozen, and read once per request.
 */

/** Where the geo database places an address. `found` is false for private, reserved and unlisted addresses. */
export interface GeoLocation {
  readonly found: boolean;
  /** ISO 3166-1 alpha-2, upper case, or null when unknown. */
  readonly country: string | null;
  /** Continent code: AF AN AS EU NA OC SA, or null when unknown. */
  readonly continent: string | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
  /**
   * Prefix length of the geo database network that matched (IPv4 addresses in IPv4 terms, 0-32;
   * IPv6 in IPv6 terms, 0-128). Used as the ECS scope when the decision depended on location.
   */
  readonly prefixLength: number;
}

/** How the client address became known. */
export type ClientSource = 'ecs' | 'socket' | 'forwarded' | 'explicit';

export interface ClientInfo {
  /** The address the decision is made for (the ECS address, already truncated to its source prefix, or the peer). */
  readonly ip: string;
  readonly family: 4 | 6;
  readonly location: GeoLocation;
  readonly source: ClientSource;
}

export type HealthStatus = 'healthy' | 'unhealthy' | 'unknown';
export type Policy = 'proximity' | 'failover' | 'weighted' | 'geolocation';
export type Residency = 'gdpr' | 'none';
export type UnknownLocation = 'route' | 'treat-as-eu';
export type WhenAllUnhealthy = 'fail-open' | 'fail-closed';
export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'MX' | 'NS' | 'CAA';

export interface RegionSnap {
  readonly name: string;
  readonly countryCode: string;
  /** 'EU' for EU/EEA countries, else the country code. */
  readonly jurisdiction: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly baseUrl: string | null;
  /** 0-1000; 0 means never chosen by the weighted policy (still a fallback for the others). */
  readonly weight: number;
  readonly drained: boolean;
  readonly health: HealthStatus;
  readonly healthReason: string | null;
}

export interface ServiceSnap {
  /** Lower case, no trailing dot. */
  readonly fqdn: string;
  /** The zone the service lives in (lower case). */
  readonly zone: string;
  readonly policy: Policy;
  /** Ordered: the failover order. */
  readonly regions: readonly string[];
  /**
   * Geolocation map. Keys: an ISO country code ("DE"), a continent written "continent:EU"
   * (continent codes AS, NA, SA and AF are also country codes), or "*".
   */
  readonly geolocation: Readonly<Record<string, readonly string[]>> | null;
  readonly ttl: number;
  readonly residency: Residency;
  readonly unknownLocation: UnknownLocation;
  readonly whenAllUnhealthy: WhenAllUnhealthy;
  /** 1-8 */
  readonly answerCount: number;
}

export interface StaticRecordSnap {
  readonly id: string;
  /** Fully qualified owner name, lower case, no trailing dot. */
  readonly name: string;
  readonly type: RecordType;
  readonly ttl: number;
  readonly values: readonly string[];
}

export interface ZoneSnap {
  /** Lower case, no trailing dot. */
  readonly name: string;
  readonly serial: number;
  readonly nameservers: readonly string[];
  readonly hostmaster: string;
  readonly ttl: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly negativeTtl: number;
  readonly records: readonly StaticRecordSnap[];
}

export interface RoutingSnapshot {
  /** Increases with every swap. */
  readonly version: number;
  readonly builtAt: string;
  readonly zones: ReadonlyMap<string, ZoneSnap>;
  readonly regions: ReadonlyMap<string, RegionSnap>;
  readonly services: ReadonlyMap<string, ServiceSnap>;
}

export interface RouteQuery {
  /** Lower case, no trailing dot. */
  readonly fqdn: string;
  /** A and AAAA answer with endpoint addresses; HTTP (redirects) with the region's baseUrl. */
  readonly qtype: 'A' | 'AAAA' | 'HTTP';
  readonly client: ClientInfo;
}

/**
 * Why a decision came out as it did. Tests assert these, not only the winner.
 * - nearest-healthy: proximity picked the closest routable region.
 * - failover-primary / failover-next: failover picked the first / a later region in the service's order.
 * - weighted: rendezvous hashing over routable regions by weight.
 * - geolocation-country / geolocation-continent / geolocation-default: the geolocation map entry that matched.
 * - geolocation-nearest: no map entry matched; fell back to proximity.
 * - unknown-location: the client could not be located; the service's order was used.
 * - residency-eu-only: a gdpr service, an EU client: only EU regions were offered.
 * - residency-no-eligible-region: a gdpr service, an EU client, and the service has no EU region: refused.
 *   (Also when every EU region of the service is drained: drained regions are never answered.)
 * - all-unhealthy-fail-open: no candidate was routable; answered with the (allowed) candidates anyway.
 * - all-unhealthy-fail-closed: no candidate was routable and the service fails closed: refused.
 *   (Also when every allowed region is drained, whatever whenAllUnhealthy says: there is nothing to answer.)
 * - no-address: no candidate region has an endpoint of the asked family (A/AAAA): NODATA.
 */
export type Reason =
  | 'nearest-healthy'
  | 'failover-primary'
  | 'failover-next'
  | 'weighted'
  | 'geolocation-country'
  | 'geolocation-continent'
  | 'geolocation-default'
  | 'geolocation-nearest'
  | 'unknown-location'
  | 'residency-eu-only'
  | 'residency-no-eligible-region'
  | 'all-unhealthy-fail-open'
  | 'all-unhealthy-fail-closed'
  | 'no-address';

/**
 * Why an unchosen candidate could not be answered; the first that applies, in this order:
 * drained, residency, unhealthy (not while failing open), no-address (no endpoint of the asked
 * family), not-in-geolocation-entry (outside every geolocation entry that matched the client,
 * while those entries served the whole answer). Absent: usable, just ranked lower.
 */
export type ExclusionReason = 'drained' | 'unhealthy' | 'residency' | 'no-address' | 'not-in-geolocation-entry';

export interface Candidate {
  readonly region: string;
  /** Great-circle distance from the client, or null when the client has no coordinates. */
  readonly distanceKm: number | null;
  readonly healthy: boolean;
  /** Allowed by residency. */
  readonly allowed: boolean;
  readonly chosen: boolean;
  readonly excludedBecause?: ExclusionReason;
}

export interface Decision {
  /** answer: addresses (possibly none: NODATA); refused: SERVFAIL in DNS, 503 over HTTP. */
  readonly outcome: 'answer' | 'refused';
  readonly service: string;
  /** Chosen regions, best first (at most answerCount). */
  readonly regions: readonly string[];
  /** Addresses of the chosen regions for the asked family, in order, without duplicates. */
  readonly addresses: readonly string[];
  readonly ttl: number;
  /**
   * ECS scope prefix length: how much of the client address the decision depended on
   * (0 when the answer is the same for every client).
   */
  readonly ecsScope: number;
  readonly reason: Reason;
  /** A sentence for operators (and the EDE text of refusals). */
  readonly detail: string;
  /** Every region of the service, in the order considered, with why it was or was not chosen. */
  readonly candidates: readonly Candidate[];
}
