/**
 * Property: the table path (location class -> ranking -> select) and decide() (the explain API's
 * engine) give the same answer — outcome, reason of a refusal, chosen regions in order and ECS
 * scope — for random registries (policies, region subsets, geolocation maps, answerCount, fail
 * modes, residency, replication), random health and drain, and random clients, including the
 * unknown location, ties in distance and reused snapshots (health-only and incremental builds).
 */
import fc from 'fast-check';
import { decide } from '../engine';
import { placeKey, type LatencyEntryInput, type LatencyInput } from '../latency';
import { ALL_REGIONS, ZONE } from '../fixtures';
import { clientHashKey } from '../rendezvous';
import { planFor } from '../service-plan';
import { buildSnapshot, withRegionHealth, type RegionInput, type ServiceInput } from '../snapshot';
import type { Policy, RoutingSnapshot } from '../types';
import { LocationClassTable, type Place } from './location-classes';
import { RegionRanking } from './region-ranking';
import { TableRouter, type AnswerFamily } from './table-router';

const POOL = ALL_REGIONS;
const POOL_NAMES = POOL.map((r) => r.name);
const GEO_KEYS = ['DE', 'FR', 'IE', 'GB', 'US', 'JP', 'continent:EU', 'continent:NA', 'continent:AS', '*'];
const COUNTRIES: readonly (readonly [string | null, string | null])[] = [
  ['DE', 'EU'], ['FR', 'EU'], ['IE', 'EU'], ['NO', 'EU'], ['GB', 'EU'], ['CH', 'EU'], ['US', 'NA'], ['JP', 'AS'], ['BR', 'SA'], [null, 'EU'], [null, null],
];

const placeArb: fc.Arbitrary<Place> = fc.oneof(
  fc.constant<Place>({ found: false, country: null, continent: null, latitude: null, longitude: null }),
  fc.record({
    which: fc.nat(COUNTRIES.length - 1),
    coords: fc.option(
      fc.oneof(
        fc.record({ latitude: fc.double({ min: -89, max: 89, noNaN: true }), longitude: fc.double({ min: -179, max: 179, noNaN: true }) }),
        // A region's own coordinates: ties between regions at the same place.
        fc.constantFrom(...POOL.map((r) => ({ latitude: r.latitude, longitude: r.longitude }))),
      ),
      { nil: null },
    ),
  }).map(({ which, coords }): Place => ({
    found: true,
    country: COUNTRIES[which][0],
    continent: COUNTRIES[which][1],
    latitude: coords?.latitude ?? null,
    longitude: coords?.longitude ?? null,
  })),
);

const regionsArb = fc
  .tuple(
    ...POOL.map(() =>
      fc.record({
        health: fc.constantFrom('healthy', 'unhealthy', 'unknown') as fc.Arbitrary<'healthy' | 'unhealthy' | 'unknown'>,
        drained: fc.boolean(),
        weight: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
        hasIpv4: fc.boolean(),
        hasIpv6: fc.boolean(),
        twin: fc.boolean(),
      }),
    ),
  )
  .map((states) =>
    POOL.map((r, i): RegionInput => {
      // Some regions sit exactly where the previous one sits: equal distances for every client.
      const twin = states[i].twin && i > 0 ? POOL[i - 1] : r;
      return {
        ...r,
        latitude: twin.latitude,
        longitude: twin.longitude,
        health: states[i].health,
        drained: states[i].drained,
        weight: states[i].weight,
        ipv4: states[i].hasIpv4 ? r.ipv4 : [],
        ipv6: states[i].hasIpv6 ? r.ipv6 : [],
      };
    }),
  );

const serviceArb = fc
  .record({
    policy: fc.constantFrom<Policy>('proximity', 'failover', 'weighted', 'geolocation', 'latency', 'latency'),
    regions: fc.shuffledSubarray(POOL_NAMES, { minLength: 1 }),
    residency: fc.constantFrom('gdpr', 'none') as fc.Arbitrary<'gdpr' | 'none'>,
    unknownLocation: fc.constantFrom('route', 'treat-as-eu') as fc.Arbitrary<'route' | 'treat-as-eu'>,
    whenAllUnhealthy: fc.constantFrom('fail-open', 'fail-closed') as fc.Arbitrary<'fail-open' | 'fail-closed'>,
    answerCount: fc.integer({ min: 1, max: 8 }),
    geoKeys: fc.subarray(GEO_KEYS),
    geoSeed: fc.array(fc.nat(), { minLength: GEO_KEYS.length * 2, maxLength: GEO_KEYS.length * 2 }),
    replicated: fc.constantFrom('none', 'active-passive', 'active-active'),
    primarySeed: fc.nat(),
    lags: fc.array(fc.option(fc.integer({ min: 0, max: 2000 }), { nil: null }), { minLength: POOL.length, maxLength: POOL.length }),
  })
  .map(({ geoKeys, geoSeed, replicated, primarySeed, lags, ...s }, ): ServiceInput => {
    const geolocation = Object.fromEntries(
      geoKeys.map((key, k) => [key, [...new Set([s.regions[geoSeed[2 * k] % s.regions.length], s.regions[geoSeed[2 * k + 1] % s.regions.length]])]]),
    );
    const now = new Date().toISOString();
    const replication =
      replicated === 'none'
        ? null
        : replicated === 'active-passive'
          ? {
              mode: 'active-passive' as const,
              primary: s.regions[primarySeed % s.regions.length],
              maxStalenessMs: 1000,
              writeFqdn: 'write.example.com',
              members: s.regions.map((region, i) => ({ region, lagMs: lags[i], reportedAt: lags[i] === null ? null : now })),
            }
          : { mode: 'active-active' as const, conflictResolution: 'last-write-wins' as const };
    return { fqdn: 'app.example.com', ...s, geolocation, replication };
  });

/** Networks the latency evidence and the clients share (/24s inside one /20 and /16, and apart). */
const NETS: readonly (readonly [number, number, number])[] = [[198, 51, 100], [198, 51, 101], [198, 51, 96], [198, 60, 1], [203, 0, 113], [100, 64, 7]];
const CLASS_PLACES = COUNTRIES.flatMap(([country]) => POOL.slice(0, 3).map((r) => ({ country, latitude: r.latitude, longitude: r.longitude })));

const evidenceArb = fc.array(
  fc.record({ region: fc.constantFrom(...POOL_NAMES), rttMs: fc.oneof(fc.integer({ min: 1, max: 400 }), fc.constantFrom(20, 22, 24, 30)), samples: fc.integer({ min: 5, max: 900 }), sources: fc.integer({ min: 3, max: 40 }) }),
  { minLength: 1, maxLength: POOL.length },
);

const latencyArb: fc.Arbitrary<LatencyInput> = fc
  .array(
    fc.oneof(
      fc.record({ net: fc.constantFrom(...NETS), bits: fc.constantFrom(24, 20, 16), evidence: evidenceArb }).map(({ net, bits, evidence }): LatencyEntryInput => {
        const n = net[0] * 65536 + net[1] * 256 + net[2];
        const masked = bits === 24 ? n : bits === 20 ? n - (n % 16) : n - (n % 256);
        return { level: 'prefix', key: `${masked >> 16}.${(masked >> 8) & 255}.${masked & 255}.0/${bits}`, evidence };
      }),
      fc.record({ place: fc.constantFrom(...CLASS_PLACES), evidence: evidenceArb }).map(({ place, evidence }): LatencyEntryInput => ({ level: 'class', key: placeKey(place)!, evidence })),
      fc.record({ country: fc.constantFrom('DE', 'US', 'JP', 'FR'), evidence: evidenceArb }).map(({ country, evidence }): LatencyEntryInput => ({ level: 'country', key: country, evidence })),
    ),
    { maxLength: 12 },
  )
  .map((entries) => ({ entries }));

const clientArb = fc.record({
  place: fc.oneof(placeArb, fc.constantFrom(...CLASS_PLACES).map((p): Place => ({ found: true, continent: 'EU', ...p }))),
  prefixLength: fc.integer({ min: 0, max: 32 }),
  octets: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255)), fc.constantFrom(...NETS)),
  qtype: fc.constantFrom<'A' | 'AAAA' | 'HTTP'>('A', 'AAAA', 'HTTP'),
  write: fc.boolean(),
});

type Client = typeof clientArb extends fc.Arbitrary<infer T> ? T : never;

function check(snapshot: RoutingSnapshot, fqdn: string, clients: readonly Client[]): void {
  const classes = new LocationClassTable();
  const ranking = new RegionRanking(snapshot, classes);
  const router = new TableRouter();
  const service = snapshot.services.get(fqdn)!;
  const plan = planFor(snapshot, service);
  for (const c of clients) {
    const classId = classes.intern(c.place);
    const ip = `${c.octets[0]}.${c.octets[1]}.${c.octets[2]}.7`;
    const location = classes.location(classId, c.prefixLength);
    const family: AnswerFamily = c.qtype === 'A' ? 'ipv4' : c.qtype === 'AAAA' ? 'ipv6' : 'http';
    const decision = decide(snapshot, { fqdn, qtype: c.qtype, client: { ip, family: 4, location, source: 'ecs' }, access: c.write ? 'write' : 'read' })!;
    const sel = router.route(snapshot, plan, classes, ranking, classId, c.prefixLength, 4, family, c.write, () => clientHashKey(ip, 4));
    const chosen = Array.from(sel.chosen.subarray(0, sel.count), (i) => plan.regions[i].name);
    const table = { outcome: sel.refusal === null ? 'answer' : 'refused', reason: router.reason(), regions: sel.refusal === null ? chosen : [], scope: router.scope };
    const engine = { outcome: decision.outcome, reason: decision.reason, regions: decision.regions, scope: decision.ecsScope };
    expect(table).toEqual(engine);
    seenReasons.add(decision.reason);
  }
}

/** Reasons the random runs reached (the latency ones must be among them, or the property proves little). */
const seenReasons = new Set<string>();

describe('table path agrees with decide()', () => {
  it('for random registries, health and clients (also after a health-only change)', () => {
    fc.assert(
      fc.property(regionsArb, serviceArb, fc.array(clientArb, { minLength: 1, maxLength: 12 }), regionsArb, latencyArb, (regions, service, clients, later, latency) => {
        const snapshot = buildSnapshot({ zones: [ZONE], regions, services: [service], latency }, 1);
        check(snapshot, 'app.example.com', clients);
        if (service.replication?.mode === 'active-passive') check(snapshot, 'write.example.com', clients);
        // Health alone changes: the tables stay, the state array moves.
        const updates = new Map(later.map((r) => [r.name, { health: r.health ?? 'unknown', healthReason: null }]));
        check(withRegionHealth(snapshot, updates, 2), 'app.example.com', clients);
        // An incremental build with new drain flags reuses the service and its plan.
        const next = buildSnapshot({ zones: [ZONE], regions: regions.map((r, i) => ({ ...r, drained: later[i].drained })), services: [service], latency }, 3, new Date(), snapshot);
        check(next, 'app.example.com', clients);
      }),
      { numRuns: 600 },
    );
    expect([...seenReasons]).toEqual(expect.arrayContaining(['lowest-latency', 'latency-distance-fallback', 'nearest-healthy']));
  });
});
