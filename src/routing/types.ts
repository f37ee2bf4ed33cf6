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
  readonly qtype: 'A' | 'AAAA';
  readonly client: ClientInfo;
}
