import fc from 'fast-check';
import { GeoLocator } from '../geo/geo-locator';
import { decide } from '../routing/engine';
import { buildSnapshot, type RegionInput, type ServiceInput } from '../routing/snapshot';
import { isEuCountry } from '../routing/jurisdiction';
import type { HealthStatus, Policy } from '../routing/types';

/**
 * The GDPR invariant against real data: EU client addresses drawn from the bundled DB-IP
 * database (rejection sampling over the IPv4 space and over RIPE's IPv6 allocations, keeping the
 * addresses the database places in an EU/EEA country), random health, random service shapes: a
 * gdpr service never answers an EU client with a non-EU region or address.
 */
const REGION_POOL: RegionInput[] = [
  { name: 'eu-west-1', countryCode: 'IE', latitude: 53.35, longitude: -6.26, ipv4: ['198.51.100.10'], ipv6: ['2001:db8:3::10'], baseUrl: 'https://eu-west-1.example.net' },
  { name: 'eu-central-1', countryCode: 'DE', latitude: 50.11, longitude: 8.68, ipv4: ['198.51.100.20'], ipv6: ['2001:db8:4::20'], baseUrl: 'https://eu-central-1.example.net' },
  { name: 'eu-north-1', countryCode: 'SE', latitude: 59.33, longitude: 18.07, ipv4: ['198.51.100.30'], ipv6: ['2001:db8:4::30'] },
  { name: 'eea-north-1', countryCode: 'NO', latitude: 59.91, longitude: 10.75, ipv4: ['198.51.100.40'], ipv6: [] },
  { name: 'eu-west-2', countryCode: 'GB', latitude: 51.51, longitude: -0.13, ipv4: ['192.0.2.50'], ipv6: ['2001:db8:9::50'] },
  { name: 'eu-central-2', countryCode: 'CH', latitude: 47.37, longitude: 8.54, ipv4: ['192.0.2.60'], ipv6: ['2001:db8:9::60'] },
  { name: 'us-east-1', countryCode: 'US', latitude: 39.04, longitude: -77.49, ipv4: ['192.0.2.10'], ipv6: ['2001:db8:1::10'] },
  { name: 'ap-northeast-1', countryCode: 'JP', latitude: 35.68, longitude: 139.69, ipv4: ['203.0.113.10'], ipv6: ['2001:db8:5::10'] },
  { name: 'sa-east-1', countryCode: 'BR', latitude: -23.55, longitude: -46.63, ipv4: ['203.0.113.20'], ipv6: ['2001:db8:6::20'] },
];
const EU_REGION = new Set(REGION_POOL.filter((r) => isEuCountry(r.countryCode)).map((r) => r.name));
const EU_ADDRESSES = new Set(REGION_POOL.filter((r) => EU_REGION.has(r.name)).flatMap((r) => [...(r.ipv4 ?? []), ...(r.ipv6 ?? []), r.baseUrl ?? '']));

/** Deterministic PRNG (mulberry32), so a failure names addresses that can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleEuAddresses(locator: GeoLocator, count: number, v6Share: number): string[] {
  const rnd = prng(0x9e0);
  const out: string[] = [];
  const want6 = Math.floor(count * v6Share);
  let tries = 0;
  while (out.length < count - want6 && tries++ < 5_000_000) {
    const ip = [1 + Math.floor(rnd() * 223), Math.floor(rnd() * 256), Math.floor(rnd() * 256), 1 + Math.floor(rnd() * 254)].join('.');
    const loc = locator.locate(ip);
    if (loc.found && isEuCountry(loc.country)) out.push(ip);
  }
  tries = 0;
  while (out.length < count && tries++ < 5_000_000) {
    // 2a00::/12 and 2001:600::/23-ish: RIPE NCC's IPv6 allocations, where European networks live.
    const head = rnd() < 0.8 ? 0x2a00 + Math.floor(rnd() * 16) : 0x2001;
    const second = head === 0x2001 ? 0x0600 + Math.floor(rnd() * 0x0a00) : Math.floor(rnd() * 65536);
    const parts = [head, second, Math.floor(rnd() * 65536), Math.floor(rnd() * 65536), 0, 0, 0, 1];
    const ip = parts.map((p) => p.toString(16)).join(':');
    const loc = locator.locate(ip);
    if (loc.found && isEuCountry(loc.country)) out.push(ip);
  }
  return out;
}

describe('GDPR residency against the bundled geo database (property)', () => {
  let locator: GeoLocator;
  let clients: string[];

  beforeAll(async () => {
    locator = await GeoLocator.openBundled();
    clients = sampleEuAddresses(locator, 10_000, 0.2);
  }, 120_000);

  it('draws at least 10,000 EU client addresses, IPv4 and IPv6', () => {
    expect(clients.length).toBe(10_000);
    expect(clients.filter((c) => c.includes(':')).length).toBe(2_000);
    expect(new Set(clients.map((c) => locator.locate(c).country)).size).toBeGreaterThanOrEqual(20);
  });

  it('never yields a non-EU region for a gdpr service, whatever the health and the service shape', () => {
    const health = fc.constantFrom<HealthStatus>('healthy', 'unhealthy', 'unknown');
    const scenario = fc.record({
      client: fc.integer({ min: 0, max: 9_999 }),
      qtype: fc.constantFrom<'A' | 'AAAA' | 'HTTP'>('A', 'AAAA', 'HTTP'),
      policy: fc.constantFrom<Policy>('proximity', 'failover', 'weighted', 'geolocation'),
      regions: fc.shuffledSubarray(REGION_POOL.map((r) => r.name), { minLength: 1 }),
      health: fc.array(health, { minLength: REGION_POOL.length, maxLength: REGION_POOL.length }),
      drained: fc.array(fc.boolean(), { minLength: REGION_POOL.length, maxLength: REGION_POOL.length }),
      weights: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: REGION_POOL.length, maxLength: REGION_POOL.length }),
      answerCount: fc.integer({ min: 1, max: 8 }),
      whenAllUnhealthy: fc.constantFrom('fail-open' as const, 'fail-closed' as const),
      unknownLocation: fc.constantFrom('route' as const, 'treat-as-eu' as const),
    });
    let refused = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const regions = REGION_POOL.map((r, i) => ({ ...r, health: s.health[i], drained: s.drained[i] && i % 3 !== 0, weight: s.weights[i] }));
        const service: ServiceInput = {
          fqdn: 'app.example.com',
          policy: s.policy,
          regions: s.regions,
          geolocation: s.policy === 'geolocation' ? { 'continent:EU': [s.regions[s.regions.length - 1]], '*': [s.regions[0]] } : null,
          residency: 'gdpr',
          answerCount: s.answerCount,
          whenAllUnhealthy: s.whenAllUnhealthy,
          unknownLocation: s.unknownLocation,
        };
        const snap = buildSnapshot({ zones: [{ name: 'example.com', serial: 1, nameservers: ['ns1.example.com'], hostmaster: 'h.example.com', ttl: 300, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 300 }], regions, services: [service] }, 1);
        const ip = clients[s.client];
        const d = decide(snap, { fqdn: 'app.example.com', qtype: s.qtype, client: { ip, family: ip.includes(':') ? 6 : 4, location: locator.locate(ip), source: 'ecs' } })!;
        if (d.outcome === 'refused') refused++;
        return d.regions.every((r) => EU_REGION.has(r)) && d.addresses.every((a) => EU_ADDRESSES.has(a));
      }),
      { numRuns: 10_000, seed: 20261126 },
    );
    expect(refused).toBeGreaterThan(0);
  });
});
