/**
 * The routing engine's data contract. Everything here is plain, immutable data: no framework
 * types, no database entities. A RoutingSnapshot is built off the hot path (see snapshot.ts),
 * frozen, and read once per request.
 */

import type { LatencyLevel, LatencyTable } from './latency';

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
export type Policy = 'proximity' | 'failover' | 'weighted' | 'geolocation' | 'latency';
export type Residency = 'gdpr' | 'none';
export type UnknownLocation = 'route' | 'treat-as-eu';
export type WhenAllUnhealthy = 'fail-open' | 'fail-closed';
export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT' | 'MX' | 'NS' | 'CAA' | 'SRV' | 'HTTPS' | 'SVCB' | 'TLSA' | 'PTR' | 'NAPTR' | 'DS';

/** How a service's data is replicated between its regions (DESIGN §9b). */
export type ReplicationMode = 'none' | 'active-passive' | 'active-active';
/** Whether georoute promotes a replica by itself when the primary fails (active-passive). */
export type PromotionMode = 'automatic' | 'manual';
/** How an active-active service merges concurrent writes (shown by the explain API). */
export type ConflictResolution = 'last-write-wins' | 'vector-clocks' | 'crdt' | 'application';
/** A region's part in a replicated service: the one writer, a read replica, or an active-active peer. */
export type ReplicaRole = 'primary' | 'replica' | 'peer';
/**
 * Why an active-passive replica is excluded from read answers, or null when it is eligible:
 * - lag-exceeds-bound: its last reported lag is above the service's maxStalenessMs;
 * - report-too-old: its last report is older than the region's heartbeat timeout (default 60 s);
 * - no-report: it has never reported a lag for this service.
 */
export type ReplicaStaleness = 'lag-exceeds-bound' | 'report-too-old' | 'no-report';

/** One region of a replicated service, with its last lag report (as of the snapshot's build). */
export interface ReplicaSnap {
  readonly region: string;
  readonly role: ReplicaRole;
  /** Last reported replication lag in milliseconds, or null when none was reported. */
  readonly lagMs: number | null;
  /** When that report was received (ISO 8601), or null. */
  readonly reportedAt: string | null;
  /** How old a report may be before the replica counts as stale (the region's heartbeat timeout). */
  readonly maxReportAgeMs: number;
  /** Why the replica is excluded from reads (active-passive replicas only), or null. */
  readonly stale: ReplicaStaleness | null;
}

/** The replication settings of a service whose mode is not 'none'. */
export interface ReplicationSnap {
  readonly mode: 'active-passive' | 'active-active';
  /** active-passive: the region that takes every write; null for active-active. */
  readonly primary: string | null;
  /** active-passive: replicas lagging more than this are not answered for reads; null = no bound. */
  readonly maxStalenessMs: number | null;
  readonly promotion: PromotionMode;
  readonly promotionDelaySeconds: number;
  /** active-active: how concurrent writes are merged; null for active-passive. */
  readonly conflictResolution: ConflictResolution | null;
  /** The name that always resolves to the writer(s), or null. */
  readonly writeFqdn: string | null;
  /** Every region of the service, in service order. */
  readonly members: readonly ReplicaSnap[];
}

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
  /** Present when the service's data is replicated (mode other than 'none'). */
  readonly replication?: ReplicationSnap;
  /**
   * Present on a write name only (replication.writeFqdn of the service named here): the snapshot
   * holds the write name as a service-like entry whose answers are write decisions.
   */
  readonly writeOf?: string;
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
  /** DNSSEC signing of the zone (src/dns/dnssec-signer.ts); absent or null: unsigned. */
  readonly dnssec?: ZoneDnssecSnap | null;
}

/**
 * A signed zone: 'signed', or 'unsigning' (still signed, with CDS/CDNSKEY delete records so the
 * parent removes the DS first, RFC 8078 §4).
 */
export interface ZoneDnssecSnap {
  readonly status: 'signed' | 'unsigning';
  readonly keys: readonly DnssecKeySnap[];
}

/**
 * One signing key. 'published': in the DNSKEY RRset, signs nothing (pre-publication); 'active':
 * published and signing (a ZSK the zone data, a KSK the DNSKEY RRset, a CSK both); 'retired':
 * published, signs nothing, about to be removed. `cds`: its CDS/CDNSKEY are published (RFC 7344).
 */
export interface DnssecKeySnap {
  readonly id: string;
  readonly role: 'csk' | 'ksk' | 'zsk';
  readonly algorithm: number;
  readonly flags: number;
  readonly keyTag: number;
  /** The DNSKEY public key field, base64. */
  readonly publicKey: string;
  /** PKCS#8 DER sealed with AES-256-GCM (common/dnssec-keys.ts `sealSecret`, AAD = the key id). */
  readonly privateKeySealed: string;
  readonly state: 'published' | 'active' | 'retired';
  readonly cds: boolean;
}

export interface RoutingSnapshot {
  /** Increases with every swap. */
  readonly version: number;
  readonly builtAt: string;
  readonly zones: ReadonlyMap<string, ZoneSnap>;
  readonly regions: ReadonlyMap<string, RegionSnap>;
  readonly services: ReadonlyMap<string, ServiceSnap>;
  /**
   * What changes often, apart from the tables (set by buildSnapshot; absent on hand-made
   * snapshots, whose RegionSnap fields are read instead). Region ids index it.
   */
  readonly state?: RegionState;
  /** Compiled latency evidence (latency.ts) for `latency` services; absent when none was given. */
  readonly latency?: LatencyTable;
  /** Every region's id (its position in `regions`), fixed for the snapshot's lifetime. */
  readonly regionIds?: ReadonlyMap<string, number>;
}

/** Region flags in RegionState.flags. */
export const REGION_DRAINED = 1;
export const REGION_UNHEALTHY = 2;

/**
 * The small array the hot path reads for health and drain: one byte per region id. A health
 * change or a drain makes a new RegionState (and a new snapshot object sharing every table);
 * nothing else is rebuilt.
 */
export interface RegionState {
  /** flags[id]: REGION_DRAINED | REGION_UNHEALTHY. */
  readonly flags: Uint8Array;
  /** Increases with every change of any flag (answers cached by state compare it). */
  readonly version: number;
}

export interface RouteQuery {
  /** Lower case, no trailing dot. */
  readonly fqdn: string;
  /** A and AAAA answer with endpoint addresses; HTTP (redirects) with the region's baseUrl. */
  readonly qtype: 'A' | 'AAAA' | 'HTTP';
  readonly client: ClientInfo;
  /**
   * 'write' routes to the writers of a replicated service (the primary for active-passive);
   * default 'read'. A query for a write name (ServiceSnap.writeOf) is always a write.
   */
  readonly access?: Access;
}

export type Access = 'read' | 'write';

/**
 * Why a decision came out as it did. Tests assert these, not only the winner.
 * - nearest-healthy: proximity picked the closest routable region.
 * - failover-primary / failover-next: failover picked the first / a later region in the service's order.
 * - weighted: rendezvous hashing over routable regions by weight.
 * - geolocation-country / geolocation-continent / geolocation-default: the geolocation map entry that matched.
 * - geolocation-nearest: no map entry matched; fell back to proximity.
 * - lowest-latency: the latency policy picked the routable region with the lowest measured RTT
 *   from the client's network (evidence at the first level that measures two of its regions).
 * - latency-distance-fallback: the latency policy had too little trusted evidence for the client's
 *   network (or no measured region was usable) and picked the nearest routable region by distance.
 * - unknown-location: the client could not be located; the service's order was used.
 * - residency-eu-only: a gdpr service, an EU client: only EU regions were offered.
 * - residency-no-eligible-region: a gdpr service, an EU client, and the service has no EU region: refused.
 *   (Also when every EU region of the service is drained: drained regions are never answered.)
 * - all-unhealthy-fail-open: no candidate was routable; answered with the (allowed) candidates anyway.
 * - all-unhealthy-fail-closed: no candidate was routable and the service fails closed: refused.
 *   (Also when every allowed region is drained, whatever whenAllUnhealthy says: there is nothing to answer.)
 * - no-address: no candidate region has an endpoint of the asked family (A/AAAA): NODATA.
 * - write-primary: a write to an active-passive service (its write name, or an unsafe HTTP method):
 *   answered with the primary region.
 * - residency-primary-outside-eu: a write to a gdpr active-passive service from an EU client while
 *   the primary is outside the EU: refused (reads may still be served by EU replicas).
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
  | 'lowest-latency'
  | 'latency-distance-fallback'
  | 'unknown-location'
  | 'residency-eu-only'
  | 'residency-no-eligible-region'
  | 'all-unhealthy-fail-open'
  | 'all-unhealthy-fail-closed'
  | 'no-address'
  | 'write-primary'
  | 'residency-primary-outside-eu';

/** Every Reason, once (counters index by it; the engine spec checks each appears in a scenario). */
export const REASONS = [
  'nearest-healthy',
  'failover-primary',
  'failover-next',
  'weighted',
  'geolocation-country',
  'geolocation-continent',
  'geolocation-default',
  'geolocation-nearest',
  'lowest-latency',
  'latency-distance-fallback',
  'unknown-location',
  'residency-eu-only',
  'residency-no-eligible-region',
  'all-unhealthy-fail-open',
  'all-unhealthy-fail-closed',
  'no-address',
  'write-primary',
  'residency-primary-outside-eu',
] as const satisfies readonly Reason[];

/** Compile-time proof that REASONS lists every Reason: `true` only when none is missing. */
export const REASONS_COMPLETE: [Exclude<Reason, (typeof REASONS)[number]>] extends [never] ? true : never = true;

/**
 * Why an unchosen candidate could not be answered; the first that applies, in this order:
 * drained, residency, not-primary (a write to an active-passive service goes to the primary
 * only), unhealthy (not while failing open), replica-stale (an active-passive replica whose lag
 * is beyond maxStalenessMs or whose report is too old; reads only, not while failing open),
 * no-address (no endpoint of the asked family), not-in-geolocation-entry (outside every
 * geolocation entry that matched the client, while those entries served the whole answer).
 * Absent: usable, just ranked lower.
 */
export type ExclusionReason =
  | 'drained'
  | 'unhealthy'
  | 'residency'
  | 'not-primary'
  | 'replica-stale'
  | 'no-address'
  | 'not-in-geolocation-entry';

export interface Candidate {
  readonly region: string;
  /** Great-circle distance from the client, or null when the client has no coordinates. */
  readonly distanceKm: number | null;
  readonly healthy: boolean;
  /** Allowed by residency. */
  readonly allowed: boolean;
  readonly chosen: boolean;
  /** Replicated services only: the region's role. */
  readonly role?: ReplicaRole;
  /** Replicated services only: the last reported lag in milliseconds (null: none reported). */
  readonly lagMs?: number | null;
  readonly excludedBecause?: ExclusionReason;
  /** Latency services only: the measured evidence for this region, or the distance fallback. */
  readonly latency?: CandidateLatency;
}

/** What the latency policy knew about one candidate. */
export type CandidateLatency =
  | {
      readonly level: LatencyLevel;
      /** Median of the decaying window, ms. */
      readonly rttMs: number;
      readonly samples: number;
      readonly sources: number;
    }
  | { readonly level: 'distance-fallback' };

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
