/**
 * Property: a GDPR-resident service never answers an EU client (or an unlocated client of a
 * 'treat-as-eu' service) with a region outside the EU, whatever the policy, health, drain,
 * weights, geolocation map, answerCount or whenAllUnhealthy, and in every branch.
 */
import fc from 'fast-check';
import { decide } from './engine';
import { ALL_REGIONS, UNKNOWN_LOCATION, ZONE } from './fixtures';
import { EU_JURISDICTION_COUNTRIES, isEuCountry } from './jurisdiction';
import { buildSnapshot, type RegionInput, type ServiceInput } from './snapshot';
import type { Decision, GeoLocation, Policy, RouteQuery } from './types';

const POOL = ALL_REGIONS; // 5 EU/EEA regions, 6 elsewhere (GB, CH, US x2, JP, BR)
const POOL_NAMES = POOL.map((r) => r.name);
const EU_REGION_NAMES = new Set(POOL.filter((r) => isEuCountry(r.countryCode)).map((r) => r.name));
const REGION_OF_ADDRESS = new Map<string, string>(POOL.flatMap((r) => [...(r.ipv4 ?? []), ...(r.ipv6 ?? [])].map((a) => [a, r.name] as [string, string])));
const GEO_KEYS = ['DE', 'FR', 'IE', 'NO', 'GB', 'US', 'JP', 'continent:EU', 'continent:NA', 'continent:AS', '*'];

const regionState = fc.record({
  health: fc.constantFrom('healthy', 'unhealthy', 'unknown') as fc.Arbitrary<'healthy' | 'unhealthy' | 'unknown'>,
  drained: fc.boolean(),
  weight: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
  hasIpv4: fc.boolean(),
  hasIpv6: fc.boolean(),
});

const regionsArb = fc.tuple(...POOL.map(() => regionState)).map((states) =>
  POOL.map(
    (r, i): RegionInput => ({
      ...r,
      health: states[i].health,
      drained: states[i].drained,
      weight: states[i].weight,
      ipv4: states[i].hasIpv4 ? r.ipv4 : [],
      ipv6: states[i].hasIpv6 ? r.ipv6 : [],
    }),
  ),
);

const serviceArb = fc
  .record({
    policy: fc.constantFrom<Policy>('proximity', 'failover', 'weighted', 'geolocation', 'latency'),
    regions: fc.shuffledSubarray(POOL_NAMES, { minLength: 1 }),
    unknownLocation: fc.constantFrom('route', 'treat-as-eu') as fc.Arbitrary<'route' | 'treat-as-eu'>,
    whenAllUnhealthy: fc.constantFrom('fail-open', 'fail-closed') as fc.Arbitrary<'fail-open' | 'fail-closed'>,
    answerCount: fc.integer({ min: 1, max: 8 }),
    geoKeys: fc.subarray(GEO_KEYS),
    geoSeed: fc.array(fc.nat(), { minLength: GEO_KEYS.length * 2, maxLength: GEO_KEYS.length * 2 }),
  })
  .map(({ geoKeys, geoSeed, ...s }): ServiceInput => {
    // Each geolocation entry names one or two regions of the service, chosen by the seed.
    const geolocation = Object.fromEntries(
      geoKeys.map((key, k) => {
        const first = s.regions[geoSeed[2 * k] % s.regions.length];
        const second = s.regions[geoSeed[2 * k + 1] % s.regions.length];
        return [key, [...new Set([first, second])]];
      }),
    );
    return { fqdn: 'app.example.com', residency: 'gdpr', ...s, geolocation };
  });

/** A client in the EU/EEA somewhere in Europe, or unlocated (the service then treats it as EU). */
const euLocationArb: fc.Arbitrary<GeoLocation | null> = fc.oneof(
  { weight: 9, arbitrary: fc.record({
    country: fc.constantFrom(...EU_JURISDICTION_COUNTRIES),
    latitude: fc.double({ min: 35, max: 71, noNaN: true }),
    longitude: fc.double({ min: -25, max: 45, noNaN: true }),
    withCoordinates: fc.boolean(),
    prefixLength: fc.integer({ min: 0, max: 32 }),
  }).map(({ country, latitude, longitude, withCoordinates, prefixLength }) => ({
    found: true,
    country,
    continent: 'EU',
    latitude: withCoordinates ? latitude : null,
    longitude: withCoordinates ? longitude : null,
    prefixLength,
  })) },
  { weight: 1, arbitrary: fc.constant(null) },
);

const queryArb = fc.record({
  qtype: fc.constantFrom('A', 'AAAA') as fc.Arbitrary<'A' | 'AAAA'>,
  ip: fc.oneof(fc.ipV4(), fc.ipV6()),
});

function isRoutableEuWithFamily(region: RegionInput, qtype: 'A' | 'AAAA'): boolean {
  const endpoints = qtype === 'A' ? region.ipv4 : region.ipv6;
  return EU_REGION_NAMES.has(region.name) && !region.drained && region.health !== 'unhealthy' && (endpoints ?? []).length > 0;
}

/**
 * Everything wrong with one decision for an EU client of a GDPR service (plain checks rather
 * than expect(): 10,000 runs stay fast, and fast-check still shrinks any failure).
 */
function residencyViolations(decision: Decision | null, regions: readonly RegionInput[], service: ServiceInput, qtype: 'A' | 'AAAA'): string[] {
  if (decision === null) return ['no decision'];
  const problems: string[] = [];
  // The guarantee: no non-EU region, and no address of one, in any branch.
  for (const name of decision.regions) if (!EU_REGION_NAMES.has(name)) problems.push(`answered non-EU region ${name}`);
  for (const address of decision.addresses) {
    if (!EU_REGION_NAMES.has(REGION_OF_ADDRESS.get(address) ?? '')) problems.push(`answered non-EU address ${address}`);
  }
  for (const candidate of decision.candidates) {
    const eu = EU_REGION_NAMES.has(candidate.region);
    if (!eu && (candidate.chosen || candidate.allowed)) problems.push(`non-EU candidate ${candidate.region} is chosen or allowed`);
  }
  // Drained regions are never answered; refusals answer nothing.
  const byName = new Map(regions.map((r) => [r.name, r]));
  for (const name of decision.regions) if (byName.get(name)?.drained) problems.push(`answered drained region ${name}`);
  if (decision.outcome === 'refused' && decision.addresses.length > 0) problems.push('a refusal carries addresses');
  // Liveness: a routable EU region with the asked family is always answered.
  const serviceRegions = service.regions.map((name) => byName.get(name) as RegionInput);
  if (serviceRegions.some((r) => isRoutableEuWithFamily(r, qtype))) {
    if (decision.outcome !== 'answer' || decision.regions.length === 0) problems.push('a routable EU region with the family was not answered');
  }
  if (decision.regions.length > (service.answerCount ?? 1)) problems.push('more regions than answerCount');
  // Refused for residency exactly when the service has no non-drained EU region.
  const eligibleEu = serviceRegions.some((r) => EU_REGION_NAMES.has(r.name) && !r.drained);
  if ((decision.reason === 'residency-no-eligible-region') === eligibleEu) problems.push(`reason ${decision.reason} with eligible EU region: ${eligibleEu}`);
  return problems;
}

/**
 * Latency evidence that tempts: for every EU/EEA country, the regions outside the EU measure 1 ms
 * and the EU ones 100 ms (the latency policy ranks the non-EU ones first; residency must still win).
 */
const TEMPTING_LATENCY = {
  entries: EU_JURISDICTION_COUNTRIES.map((country) => ({
    level: 'country' as const,
    key: country,
    evidence: POOL.map((r) => ({ region: r.name, rttMs: EU_REGION_NAMES.has(r.name) ? 100 : 1, samples: 50, sources: 5 })),
  })),
};

describe('residency property', () => {
  it('a GDPR service never answers an EU client with a non-EU region (10,000 runs)', () => {
    fc.assert(
      fc.property(regionsArb, serviceArb, euLocationArb, queryArb, (regions, serviceIn, location, q) => {
        const service: ServiceInput = location === null ? { ...serviceIn, unknownLocation: 'treat-as-eu' } : serviceIn;
        const snapshot = buildSnapshot({ zones: [ZONE], regions, services: [service], latency: TEMPTING_LATENCY }, 1);
        const query: RouteQuery = {
          fqdn: 'app.example.com',
          qtype: q.qtype,
          client: { ip: q.ip, family: q.ip.includes(':') ? 6 : 4, location: location ?? UNKNOWN_LOCATION, source: 'ecs' },
        };
        const decision = decide(snapshot, query) as Decision;
        const problems = residencyViolations(decision, regions, service, q.qtype);
        if (problems.length > 0) throw new Error(`${problems.join('; ')}\n${JSON.stringify(decision)}`);
      }),
      { numRuns: 10000 },
    );
  });

  it('every decision keeps its invariants, for any client and residency (2,000 runs)', () => {
    const anyLocation = fc.oneof(
      fc.constant(UNKNOWN_LOCATION),
      fc.record({
        found: fc.constant(true),
        country: fc.constantFrom('DE', 'FR', 'GB', 'CH', 'US', 'JP', 'BR', 'AU', 'NO'),
        continent: fc.constantFrom('EU', 'NA', 'SA', 'AS', 'OC'),
        latitude: fc.double({ min: -90, max: 90, noNaN: true }),
        longitude: fc.double({ min: -180, max: 180, noNaN: true }),
        prefixLength: fc.integer({ min: 0, max: 128 }),
      }),
    );
    fc.assert(
      fc.property(regionsArb, serviceArb, fc.constantFrom('gdpr', 'none') as fc.Arbitrary<'gdpr' | 'none'>, anyLocation, queryArb, (regions, serviceIn, residency, location, q) => {
        const service = { ...serviceIn, residency };
        const snapshot = buildSnapshot({ zones: [ZONE], regions, services: [service] }, 1);
        const family = q.ip.includes(':') ? 6 : 4;
        const decision = decide(snapshot, { fqdn: 'app.example.com', qtype: q.qtype, client: { ip: q.ip, family, location, source: 'ecs' } }) as Decision;
        expect(decision.candidates.map((c) => c.region).sort()).toEqual([...service.regions].sort());
        expect(decision.regions.length).toBeLessThanOrEqual(service.answerCount ?? 1);
        expect(new Set(decision.addresses).size).toBe(decision.addresses.length);
        expect(decision.candidates.filter((c) => c.chosen).map((c) => c.region)).toEqual(decision.regions);
        expect(decision.ecsScope).toBeGreaterThanOrEqual(0);
        expect(decision.ecsScope).toBeLessThanOrEqual(family === 4 ? 32 : 128);
        const euClient = location.country !== null ? isEuCountry(location.country) : service.unknownLocation === 'treat-as-eu';
        if (residency === 'none' || !euClient) expect(decision.candidates.every((c) => c.allowed)).toBe(true);
        if (residency === 'none') expect(decision.reason.startsWith('residency-')).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
