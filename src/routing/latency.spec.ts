/**
 * The latency policy, table-driven: which evidence level is used, what the order is, the reason
 * and each candidate's evidence. Every scenario runs through decide() and the table router.
 */
import { decide } from './engine';
import { ALL_REGIONS, CLIENTS, ZONE, located, query, service } from './fixtures';
import { LatencyTable, parseClientKey, parsePrefixKey, placeKey, networkKey, type LatencyEntryInput } from './latency';
import { planFor } from './service-plan';
import { buildSnapshot, type RegionInput } from './snapshot';
import { LocationClassTable } from './tables/location-classes';
import { RegionRanking } from './tables/region-ranking';
import { TableRouter } from './tables/table-router';
import { clientHashKey } from './rendezvous';
import type { GeoLocation, Reason, ServiceSnap } from './types';

const REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1', 'eu-west-2'];
const ev = (region: string, rttMs: number, samples = 50, sources = 8) => ({ region, rttMs, samples, sources });

interface Scenario {
  name: string;
  entries: LatencyEntryInput[];
  location: GeoLocation;
  ip?: string;
  residency?: 'gdpr' | 'none';
  overrides?: Record<string, Partial<RegionInput>>;
  answerCount?: number;
  regions: string[];
  reason: Reason;
  /** Per chosen-first candidate: the level shown by explain. */
  firstLevel: string;
}

const BERLIN_NET = '198.51.100.0/24';
const SCENARIOS: Scenario[] = [
  {
    name: 'a /24 that measures the farther region faster is sent there',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-central-1', 80), ev('eu-west-1', 20)] }],
    location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-west-1'], reason: 'lowest-latency', firstLevel: '/24',
  },
  {
    name: 'one measured region is too thin: distance, and the reason says so',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-west-1', 5)] }],
    location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-central-1'], reason: 'latency-distance-fallback', firstLevel: 'distance-fallback',
  },
  {
    name: 'no evidence at all: distance fallback',
    entries: [], location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-central-1'], reason: 'latency-distance-fallback', firstLevel: 'distance-fallback',
  },
  {
    name: 'another /24 rolls up to the /20',
    entries: [{ level: 'prefix', key: '198.51.96.0/20', evidence: [ev('eu-central-1', 60), ev('us-east-1', 30)] }],
    location: CLIENTS.berlin, ip: '198.51.101.9', residency: 'none', regions: ['us-east-1'], reason: 'lowest-latency', firstLevel: '/20',
  },
  {
    name: 'the /24 wins over a wider prefix',
    entries: [
      { level: 'prefix', key: '198.51.0.0/16', evidence: [ev('eu-central-1', 60), ev('eu-west-1', 30)] },
      { level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-central-1', 10), ev('eu-west-1', 30)] },
    ],
    location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-central-1'], reason: 'lowest-latency', firstLevel: '/24',
  },
  {
    name: 'location class, then country',
    entries: [
      { level: 'class', key: placeKey(CLIENTS.berlin)!, evidence: [ev('eu-central-1', 60), ev('eu-west-1', 30)] },
      { level: 'country', key: 'DE', evidence: [ev('eu-central-1', 10), ev('eu-west-1', 30)] },
    ],
    location: CLIENTS.berlin, ip: '192.0.2.1', regions: ['eu-west-1'], reason: 'lowest-latency', firstLevel: 'class',
  },
  {
    name: 'country when nothing more specific',
    entries: [{ level: 'country', key: 'DE', evidence: [ev('eu-central-1', 70), ev('eu-west-1', 30)] }],
    location: located('DE', 'EU', 48.14, 11.58), ip: '192.0.2.1', regions: ['eu-west-1'], reason: 'lowest-latency', firstLevel: 'country',
  },
  {
    name: 'a difference inside the margin is a tie: service order',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-central-1', 23), ev('eu-west-1', 20)] }],
    location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-central-1'], reason: 'lowest-latency', firstLevel: '/24',
  },
  {
    name: 'residency wins: a gdpr EU client never leaves the EU however fast',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('us-east-1', 1), ev('eu-west-2', 2), ev('eu-central-1', 90)] }],
    location: CLIENTS.berlin, ip: '198.51.100.7', residency: 'gdpr', regions: ['eu-central-1'], reason: 'residency-eu-only', firstLevel: '/24',
  },
  {
    name: 'an unhealthy measured region: the next measured one',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-west-1', 10), ev('eu-central-1', 40), ev('us-east-1', 90)] }],
    overrides: { 'eu-west-1': { health: 'unhealthy' } },
    location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-central-1'], reason: 'lowest-latency', firstLevel: '/24',
  },
  {
    name: 'every measured region drained: distance among the rest',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-west-1', 10), ev('us-east-1', 40)] }],
    overrides: { 'eu-west-1': { drained: true }, 'us-east-1': { drained: true } },
    location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-central-1'], reason: 'latency-distance-fallback', firstLevel: 'distance-fallback',
  },
  {
    name: 'answerCount 2: measured first, then distance',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-west-1', 10), ev('us-east-1', 40)] }],
    answerCount: 3, residency: 'none',
    location: CLIENTS.berlin, ip: '198.51.100.7', regions: ['eu-west-1', 'us-east-1', 'eu-central-1'], reason: 'lowest-latency', firstLevel: '/24',
  },
  {
    name: 'IPv6 /48 evidence',
    entries: [{ level: 'prefix', key: '2001:db8:77::/48', evidence: [ev('eu-central-1', 80), ev('eu-west-1', 20)] }],
    location: CLIENTS.berlin, ip: '2001:db8:77::1', regions: ['eu-west-1'], reason: 'lowest-latency', firstLevel: '/48',
  },
  {
    name: 'IPv6 rolls up to the /32',
    entries: [{ level: 'prefix', key: '2001:db8::/32', evidence: [ev('eu-central-1', 80), ev('eu-west-1', 20)] }],
    location: CLIENTS.berlin, ip: '2001:db8:99::1', regions: ['eu-west-1'], reason: 'lowest-latency', firstLevel: '/32',
  },
  {
    name: 'an unlocated client with evidence for its network',
    entries: [{ level: 'prefix', key: BERLIN_NET, evidence: [ev('eu-west-2', 80), ev('us-east-1', 20)] }],
    residency: 'none', location: located(null, null, null, null, 0), ip: '198.51.100.7', regions: ['us-east-1'], reason: 'lowest-latency', firstLevel: '/24',
  },
];

describe('latency policy', () => {
  it.each(SCENARIOS)('$name', (sc) => {
    const regions = ALL_REGIONS.map((r) => ({ ...r, ...(sc.overrides?.[r.name] ?? {}) }));
    const svc = service({ policy: 'latency', regions: REGIONS, residency: sc.residency ?? 'none', answerCount: sc.answerCount ?? 1 });
    const snapshot = buildSnapshot({ zones: [ZONE], regions, services: [svc], latency: { entries: sc.entries } }, 1);
    const q = query(sc.location, 'A', 'app.example.com', sc.ip);
    const d = decide(snapshot, q)!;
    expect({ reason: d.reason, regions: d.regions }).toEqual({ reason: sc.reason, regions: sc.regions });
    const first = d.candidates.find((c) => c.region === sc.regions[0])!;
    expect(first.latency?.level).toBe(sc.firstLevel);
    expect(d.candidates.every((c) => c.latency !== undefined)).toBe(true);
    if (sc.reason === 'latency-distance-fallback') expect(d.detail).toContain('distance fallback');
    if (sc.firstLevel !== 'distance-fallback') {
      expect(first.latency).toMatchObject({ samples: 50, sources: 8 });
    }
    // The table path agrees.
    const classes = new LocationClassTable();
    const classId = classes.intern(sc.location);
    const plan = planFor(snapshot, snapshot.services.get('app.example.com') as ServiceSnap);
    const router = new TableRouter();
    const family = q.client.family;
    const sel = router.route(snapshot, plan, classes, new RegionRanking(snapshot, classes), classId, sc.location.prefixLength, family, family === 4 ? 'ipv4' : 'ipv6', false, () => clientHashKey(q.client.ip, family));
    const reason = router.reason();
    expect({ reason, regions: Array.from(sel.chosen.subarray(0, sel.count), (i) => plan.regions[i].name) }).toEqual({ reason: sc.reason, regions: sc.regions });
    expect(router.scope).toBe(d.ecsScope);
    expect(d.ecsScope).toBeGreaterThanOrEqual(family === 4 ? 24 : 48);
  });

  it('parses client keys and prefixes to the same numbers', () => {
    const out = { family: 0 as 0 | 4 | 6, n: 0 };
    parseClientKey('198.51.100.0/24', out);
    expect(out).toEqual({ family: 4, n: 198 * 65536 + 51 * 256 + 100 });
    expect(parsePrefixKey('198.51.100.0/24')!.key).toBe(networkKey('/24', out.n));
    expect(parsePrefixKey('198.51.96.0/20')!.key).toBe(networkKey('/20', out.n));
    expect(parsePrefixKey('198.51.0.0/16')!.key).toBe(networkKey('/16', out.n));
    parseClientKey('2001:db8:77::/48', out);
    expect(out).toEqual({ family: 6, n: 0x2001 * 2 ** 32 + 0xdb8 * 65536 + 0x77 });
    expect(parsePrefixKey('2001:db8:77::/48')!.key).toBe(networkKey('/48', out.n));
    expect(parsePrefixKey('2001:db8::/32')!.key).toBe(networkKey('/32', out.n));
    expect(parsePrefixKey('2001:db8:0::/40')!.level).toBe('/40');
    for (const bad of ['198.51.100.0/25', '198.51.100/24', '2001:db8::/64', 'x', '300.1.1.0/24']) expect(parsePrefixKey(bad)).toBeNull();
  });

  it('a snapshot rebuilt with the same evidence object keeps the compiled table', () => {
    const latency = { entries: [{ level: 'country' as const, key: 'DE', evidence: [ev('eu-central-1', 70), ev('eu-west-1', 30)] }] };
    const input = { zones: [ZONE], regions: ALL_REGIONS, services: [service({ policy: 'latency', regions: REGIONS })], latency };
    const a = buildSnapshot(input, 1);
    expect(a.latency).toBeInstanceOf(LatencyTable);
    expect(buildSnapshot(input, 2, new Date(), a).latency).toBe(a.latency);
    expect(buildSnapshot({ ...input, latency: { entries: [...latency.entries] } }, 3, new Date(), a).latency).not.toBe(a.latency);
    expect(buildSnapshot({ ...input, latency: null }, 4).latency).toBeUndefined();
  });
});
