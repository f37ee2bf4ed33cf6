/**
 * Test fixtures for the routing engine's specs: realistic regions (real cities, documentation
 * addresses from RFC 5737 / RFC 3849), a zone, and helpers to build snapshots and queries.
 * Not used at runtime.
 */
import type { LatencyInput } from './latency';
import type { PolicyContext, PolicyRanking } from './policy';
import { planFor } from './service-plan';
import { buildSnapshot, type RegionInput, type ServiceInput } from './snapshot';
import type { ClientInfo, GeoLocation, Reason, RouteQuery, RoutingSnapshot, ServiceSnap } from './types';

export const ZONE = Object.freeze({
  name: 'example.com',
  serial: 1,
  nameservers: ['ns1.example.com', 'ns2.example.com'],
  hostmaster: 'hostmaster.example.com',
  ttl: 3600,
  refresh: 7200,
  retry: 900,
  expire: 1209600,
  negativeTtl: 300,
  records: [],
});

function region(name: string, countryCode: string, latitude: number, longitude: number, v4: string, v6: string): RegionInput {
  return Object.freeze({ name, countryCode, latitude, longitude, ipv4: [v4], ipv6: [v6], baseUrl: `https://${name}.app.example.com`, weight: 100 });
}

/** The region pool: EU/EEA regions use 192.0.2.0/24, the others 198.51.100.0/24 and 203.0.113.0/24. */
export const REGIONS = Object.freeze({
  euWest1: region('eu-west-1', 'IE', 53.35, -6.26, '192.0.2.10', '2001:db8:e::10'), // Dublin
  euCentral1: region('eu-central-1', 'DE', 50.11, 8.68, '192.0.2.20', '2001:db8:e::20'), // Frankfurt
  euNorth1: region('eu-north-1', 'SE', 59.33, 18.07, '192.0.2.30', '2001:db8:e::30'), // Stockholm
  euSouth1: region('eu-south-1', 'IT', 45.46, 9.19, '192.0.2.40', '2001:db8:e::40'), // Milan
  eeaNorth1: region('eea-north-1', 'NO', 59.91, 10.75, '192.0.2.50', '2001:db8:e::50'), // Oslo (EEA)
  euWest2: region('eu-west-2', 'GB', 51.51, -0.13, '198.51.100.20', '2001:db8:f::20'), // London (not EU)
  euCentral2: region('eu-central-2', 'CH', 47.37, 8.54, '198.51.100.30', '2001:db8:f::30'), // Zurich (not EU)
  usEast1: region('us-east-1', 'US', 39.04, -77.49, '203.0.113.10', '2001:db8:f::110'), // Ashburn
  usWest2: region('us-west-2', 'US', 45.84, -119.7, '203.0.113.20', '2001:db8:f::120'), // Boardman
  apNortheast1: region('ap-northeast-1', 'JP', 35.68, 139.69, '203.0.113.30', '2001:db8:f::130'), // Tokyo
  saEast1: region('sa-east-1', 'BR', -23.55, -46.63, '203.0.113.40', '2001:db8:f::140'), // São Paulo
});

export const ALL_REGIONS: readonly RegionInput[] = Object.freeze(Object.values(REGIONS));

/** A snapshot of the example.com zone, every pool region (with overrides by name) and `services`. */
export function snapshotOf(
  services: readonly ServiceInput[],
  regionOverrides: Readonly<Record<string, Partial<RegionInput>>> = {},
  latency?: LatencyInput,
): RoutingSnapshot {
  const regions = ALL_REGIONS.map((r) => ({ ...r, ...(regionOverrides[r.name] ?? {}) }));
  return buildSnapshot({ zones: [ZONE], regions, services, latency }, 1, new Date('2025-01-01T00:00:00Z'));
}

/** A service named app.example.com with the given settings (defaults as the API's). */
export function service(settings: Omit<ServiceInput, 'fqdn'> & { fqdn?: string }): ServiceInput {
  return { fqdn: 'app.example.com', ...settings };
}

export const UNKNOWN_LOCATION: GeoLocation = Object.freeze({
  found: false,
  country: null,
  continent: null,
  latitude: null,
  longitude: null,
  prefixLength: 0,
});

export function located(country: string | null, continent: string | null, latitude: number | null, longitude: number | null, prefixLength = 20): GeoLocation {
  return Object.freeze({ found: true, country, continent, latitude, longitude, prefixLength });
}

/** Clients in real places (documentation addresses; the location is what matters). */
export const CLIENTS = Object.freeze({
  berlin: located('DE', 'EU', 52.52, 13.4),
  paris: located('FR', 'EU', 48.86, 2.35),
  dublin: located('IE', 'EU', 53.35, -6.26),
  oslo: located('NO', 'EU', 59.91, 10.75),
  london: located('GB', 'EU', 51.51, -0.13),
  newYork: located('US', 'NA', 40.71, -74.01, 18),
  tokyo: located('JP', 'AS', 35.68, 139.69, 16),
  sydney: located('AU', 'OC', -33.87, 151.21, 22),
});

export function client(location: GeoLocation, ip = '192.0.2.77', family: 4 | 6 = 4): ClientInfo {
  return { ip, family, location, source: 'socket' };
}

export function query(location: GeoLocation, qtype: 'A' | 'AAAA' | 'HTTP' = 'A', fqdn = 'app.example.com', ip?: string): RouteQuery {
  const family = ip !== undefined && ip.includes(':') ? 6 : 4;
  return { fqdn, qtype, client: client(location, ip ?? (family === 4 ? '192.0.2.77' : '2001:db8:77::1'), family) };
}

/** The policy input for one service of a fixture snapshot. Distances are given, not computed. */
export function policyContext(
  settings: Omit<ServiceInput, 'fqdn'>,
  location: GeoLocation,
  distancesKm: readonly number[] | null,
  ip = '192.0.2.77',
): PolicyContext {
  const snapshot = snapshotOf([service(settings)]);
  const plan = planFor(snapshot, snapshot.services.get('app.example.com') as ServiceSnap);
  return { plan, client: client(location, ip, ip.includes(':') ? 6 : 4), distancesKm };
}

/** A ranking as region names with their reasons, for readable assertions. */
export function rankedNames(context: PolicyContext, ranking: PolicyRanking): [string, Reason][] {
  return ranking.order.map((position, k) => [context.plan.regions[position].name, ranking.reasons[k]]);
}
