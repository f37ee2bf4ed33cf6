import type { LatencyInput } from './latency';
import { decide } from './engine';
import { CLIENTS, REGIONS, UNKNOWN_LOCATION, located, query, service, snapshotOf } from './fixtures';
import { clientHashKey, rendezvousOrder } from './rendezvous';
import type { RegionInput, ReplicaInput, ReplicationInput, ServiceInput } from './snapshot';
import { REASONS, type Decision, type ExclusionReason, type GeoLocation, type Reason, type RoutingSnapshot } from './types';

interface Scenario {
  readonly name: string;
  readonly service: Omit<ServiceInput, 'fqdn'>;
  readonly regions?: Readonly<Record<string, Partial<RegionInput>>>;
  readonly client: GeoLocation;
  readonly qtype?: 'A' | 'AAAA';
  readonly ip?: string;
  /** The name asked (default app.example.com; a write name for write-name scenarios). */
  readonly fqdn?: string;
  readonly access?: 'read' | 'write';
  readonly latency?: LatencyInput;
  readonly expect: {
    readonly outcome?: 'answer' | 'refused';
    readonly reason: Reason;
    readonly regions: readonly string[];
    readonly addresses?: readonly string[];
    /** Every candidate in the order considered, with its exclusion (null: not excluded). */
    readonly candidates: readonly [string, ExclusionReason | null][];
    readonly detail?: RegExp;
    readonly ecsScope?: number;
  };
}

const UNHEALTHY = { health: 'unhealthy' } as const;
const DRAINED = { drained: true } as const;
const ADDRESS: Record<string, string> = Object.fromEntries(Object.values(REGIONS).map((r) => [r.name, (r.ipv4 ?? [])[0]]));

function run(s: Scenario): Decision {
  const snapshot = snapshotOf([service(s.service)], s.regions, s.latency);
  const decision = decide(snapshot, { ...query(s.client, s.qtype ?? 'A', s.fqdn ?? 'app.example.com', s.ip), access: s.access });
  if (decision === null) throw new Error('no decision');
  return decision;
}

// Replication: fixture snapshots are built at 2025-01-01T00:00:00Z; reports are relative to it.
const FRESH = '2024-12-31T23:59:50.000Z'; // 10 s old
const OLD = '2024-12-31T23:58:00.000Z'; // 2 min old: beyond the default 60 s
const report = (region: string, lagMs: number, reportedAt = FRESH): ReplicaInput => ({ region, lagMs, reportedAt });
const activePassive = (primary: string, members: readonly ReplicaInput[], extra: Partial<ReplicationInput> = {}): ReplicationInput => ({
  mode: 'active-passive',
  primary,
  maxStalenessMs: 1000,
  members,
  ...extra,
});
/** eu-west-1 primary; Berlin's nearest replica eu-central-1 lags 5 s, eu-north-1 100 ms. */
const BERLIN_REPLICAS = {
  policy: 'proximity',
  regions: ['eu-west-1', 'eu-central-1', 'eu-north-1'],
  residency: 'none',
} as const;

const scenarios: Scenario[] = [
  // ---- proximity
  {
    name: 'proximity: the nearest region',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'eu-central-1'], residency: 'none' },
    client: CLIENTS.berlin,
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-central-1'],
      addresses: ['192.0.2.20'],
      candidates: [['eu-central-1', null], ['eu-west-1', null], ['us-east-1', null]],
      detail: /eu-central-1 is the nearest routable region \(423\.4 km\)/,
      ecsScope: 20,
    },
  },
  {
    name: 'proximity: an unhealthy nearest region is skipped',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-central-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-west-1'],
      candidates: [['eu-central-1', 'unhealthy'], ['eu-west-1', null], ['us-east-1', null]],
    },
  },
  {
    name: "proximity: health 'unknown' routes like healthy",
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-central-1': { health: 'unknown' }, 'eu-west-1': { health: 'healthy' } },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-central-1'], candidates: [['eu-central-1', null], ['eu-west-1', null]] },
  },
  {
    name: 'proximity: equal distance goes to the earlier region in service order',
    service: { policy: 'proximity', regions: ['eu-north-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-north-1': { latitude: 50.11, longitude: 8.68 } },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-north-1'], candidates: [['eu-north-1', null], ['eu-central-1', null]] },
  },
  {
    name: 'proximity: equal distance, the other service order',
    service: { policy: 'proximity', regions: ['eu-central-1', 'eu-north-1'], residency: 'none' },
    regions: { 'eu-north-1': { latitude: 50.11, longitude: 8.68 } },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-central-1'], candidates: [['eu-central-1', null], ['eu-north-1', null]] },
  },
  {
    name: 'proximity: an unlocated client gets the service order',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], residency: 'none' },
    client: UNKNOWN_LOCATION,
    expect: {
      reason: 'unknown-location',
      regions: ['us-east-1'],
      candidates: [['us-east-1', null], ['eu-west-1', null]],
      detail: /client location unknown/,
      ecsScope: 24,
    },
  },
  {
    name: 'proximity: unlocated, the first region in service order is down',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], residency: 'none' },
    regions: { 'us-east-1': UNHEALTHY },
    client: UNKNOWN_LOCATION,
    expect: { reason: 'unknown-location', regions: ['eu-west-1'], candidates: [['us-east-1', 'unhealthy'], ['eu-west-1', null]] },
  },

  // ---- failover
  {
    name: 'failover: the primary',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    client: CLIENTS.berlin,
    expect: {
      reason: 'failover-primary',
      regions: ['eu-west-1'],
      candidates: [['eu-west-1', null], ['eu-central-1', null]],
      detail: /primary region eu-west-1 is routable/,
      ecsScope: 0,
    },
  },
  {
    name: 'failover: the next region when the primary is unhealthy',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1', 'us-east-1'], residency: 'none' },
    regions: { 'eu-west-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'failover-next',
      regions: ['eu-central-1'],
      candidates: [['eu-west-1', 'unhealthy'], ['eu-central-1', null], ['us-east-1', null]],
      detail: /primary region eu-west-1 is not usable; failed over to eu-central-1/,
      ecsScope: 0,
    },
  },
  {
    name: 'failover: the next region when the primary is drained',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-west-1': DRAINED },
    client: CLIENTS.berlin,
    expect: { reason: 'failover-next', regions: ['eu-central-1'], candidates: [['eu-west-1', 'drained'], ['eu-central-1', null]] },
  },
  {
    name: 'failover: drained wins over unhealthy as the exclusion',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-west-1': { drained: true, health: 'unhealthy' } },
    client: CLIENTS.berlin,
    expect: { reason: 'failover-next', regions: ['eu-central-1'], candidates: [['eu-west-1', 'drained'], ['eu-central-1', null]] },
  },

  // ---- geolocation
  {
    name: 'geolocation: the country entry',
    service: {
      policy: 'geolocation',
      regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
      geolocation: { DE: ['eu-central-1'], 'continent:EU': ['eu-west-1'] },
      residency: 'none',
    },
    client: CLIENTS.berlin,
    expect: {
      reason: 'geolocation-country',
      regions: ['eu-central-1'],
      candidates: [['eu-central-1', null], ['eu-west-1', null], ['us-east-1', 'not-in-geolocation-entry']],
      detail: /geolocation entry DE matched: eu-central-1/,
      ecsScope: 20,
    },
  },
  {
    name: 'geolocation: the continent entry',
    service: {
      policy: 'geolocation',
      regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
      geolocation: { DE: ['eu-central-1'], 'continent:EU': ['eu-west-1'] },
      residency: 'none',
    },
    client: CLIENTS.paris,
    expect: {
      reason: 'geolocation-continent',
      regions: ['eu-west-1'],
      candidates: [['eu-west-1', null], ['eu-central-1', 'not-in-geolocation-entry'], ['us-east-1', 'not-in-geolocation-entry']],
      detail: /geolocation entry continent:EU matched: eu-west-1/,
    },
  },
  {
    name: 'geolocation: the country entry is down, its continent entry answers',
    service: {
      policy: 'geolocation',
      regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
      geolocation: { DE: ['eu-central-1'], 'continent:EU': ['eu-west-1'] },
      residency: 'none',
    },
    regions: { 'eu-central-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'geolocation-continent',
      regions: ['eu-west-1'],
      candidates: [['eu-central-1', 'unhealthy'], ['eu-west-1', null], ['us-east-1', 'not-in-geolocation-entry']],
    },
  },
  {
    name: 'geolocation: the * entry',
    service: {
      policy: 'geolocation',
      regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'],
      geolocation: { DE: ['eu-west-1'], '*': ['us-east-1'] },
      residency: 'none',
    },
    client: CLIENTS.tokyo,
    expect: {
      reason: 'geolocation-default',
      regions: ['us-east-1'],
      candidates: [['us-east-1', null], ['ap-northeast-1', 'not-in-geolocation-entry'], ['eu-west-1', 'not-in-geolocation-entry']],
      detail: /geolocation entry \* matched: us-east-1/,
    },
  },
  {
    name: 'geolocation: no entry matches, the nearest region',
    service: {
      policy: 'geolocation',
      regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'],
      geolocation: { DE: ['eu-west-1'], 'continent:NA': ['us-east-1'] },
      residency: 'none',
    },
    client: CLIENTS.sydney,
    expect: {
      reason: 'geolocation-nearest',
      regions: ['ap-northeast-1'],
      candidates: [['ap-northeast-1', null], ['us-east-1', null], ['eu-west-1', null]],
      detail: /no geolocation entry matched; nearest routable region ap-northeast-1/,
      ecsScope: 22,
    },
  },
  {
    name: 'geolocation: every matched entry is down, falls through to the nearest',
    service: { policy: 'geolocation', regions: ['us-east-1', 'eu-west-1', 'eu-central-1'], geolocation: { DE: ['eu-central-1'] }, residency: 'none' },
    regions: { 'eu-central-1': DRAINED },
    client: CLIENTS.berlin,
    expect: {
      reason: 'geolocation-nearest',
      regions: ['eu-west-1'],
      candidates: [['eu-central-1', 'drained'], ['eu-west-1', null], ['us-east-1', null]],
      detail: /no region of the matched geolocation entries is usable; nearest routable region eu-west-1/,
    },
  },
  {
    name: 'geolocation: an unlocated client with a * entry',
    service: { policy: 'geolocation', regions: ['eu-west-1', 'us-east-1'], geolocation: { DE: ['eu-west-1'], '*': ['us-east-1'] }, residency: 'none' },
    client: UNKNOWN_LOCATION,
    expect: { reason: 'geolocation-default', regions: ['us-east-1'], candidates: [['us-east-1', null], ['eu-west-1', 'not-in-geolocation-entry']] },
  },
  {
    name: 'geolocation: an unlocated client without a * entry gets the service order',
    service: { policy: 'geolocation', regions: ['eu-west-1', 'us-east-1'], geolocation: { DE: ['us-east-1'] }, residency: 'none' },
    client: UNKNOWN_LOCATION,
    expect: { reason: 'unknown-location', regions: ['eu-west-1'], candidates: [['eu-west-1', null], ['us-east-1', null]] },
  },
  {
    name: 'geolocation: answerCount filled past the entry is not an exclusion',
    service: {
      policy: 'geolocation',
      regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
      geolocation: { DE: ['eu-central-1'] },
      residency: 'none',
      answerCount: 2,
    },
    client: CLIENTS.berlin,
    expect: {
      reason: 'geolocation-country',
      regions: ['eu-central-1', 'eu-west-1'],
      addresses: ['192.0.2.20', '192.0.2.10'],
      candidates: [['eu-central-1', null], ['eu-west-1', null], ['us-east-1', null]],
    },
  },

  // ---- weighted (exact winners are checked against rendezvous hashing below)
  {
    name: 'weighted: the region drained is never picked',
    service: { policy: 'weighted', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-west-1': DRAINED },
    client: CLIENTS.berlin,
    expect: { reason: 'weighted', regions: ['eu-central-1'], candidates: [], ecsScope: 24 },
  },

  // ---- latency (latency.spec.ts has the evidence levels)
  {
    name: 'latency: the /24 measures the farther region faster',
    service: { policy: 'latency', regions: ['eu-central-1', 'eu-west-1', 'us-east-1'], residency: 'none' },
    latency: { entries: [{ level: 'prefix', key: '198.51.100.0/24', evidence: [{ region: 'eu-central-1', rttMs: 70, samples: 40, sources: 6 }, { region: 'eu-west-1', rttMs: 18, samples: 60, sources: 9 }] }] },
    client: CLIENTS.berlin,
    ip: '198.51.100.7',
    expect: {
      reason: 'lowest-latency',
      regions: ['eu-west-1'],
      candidates: [['eu-west-1', null], ['eu-central-1', null], ['us-east-1', null]],
      detail: /eu-west-1 has the lowest measured round-trip time among routable regions \(18 ms median, 60 samples from 9 sources, evidence at \/24 198\.51\.100\.0\/24\)/,
      ecsScope: 24,
    },
  },
  {
    name: 'latency: thin evidence falls back to distance and says so',
    service: { policy: 'latency', regions: ['eu-central-1', 'eu-west-1', 'us-east-1'], residency: 'none' },
    latency: { entries: [{ level: 'prefix', key: '198.51.100.0/24', evidence: [{ region: 'eu-west-1', rttMs: 18, samples: 60, sources: 9 }] }] },
    client: CLIENTS.berlin,
    ip: '198.51.100.7',
    expect: {
      reason: 'latency-distance-fallback',
      regions: ['eu-central-1'],
      candidates: [['eu-central-1', null], ['eu-west-1', null], ['us-east-1', null]],
      detail: /too little trusted latency evidence for 198\.51\.100\.0\/24 .*nearest routable region by distance eu-central-1 \(423\.4 km\) \(distance fallback\)/,
      ecsScope: 24,
    },
  },

  // ---- residency (DESIGN §8)
  {
    name: 'residency: an EU client of a GDPR service gets EU regions only, though London is nearer',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-2', 'eu-west-1'] },
    client: CLIENTS.berlin,
    expect: {
      reason: 'residency-eu-only',
      regions: ['eu-west-1'],
      addresses: ['192.0.2.10'],
      candidates: [['eu-west-2', 'residency'], ['eu-west-1', null], ['us-east-1', 'residency']],
      detail: /GDPR-resident and the client is in the EU \(DE\): only EU regions were considered; eu-west-1 is the nearest routable region/,
      ecsScope: 20,
    },
  },
  {
    name: 'residency: an EEA client (Norway) counts as EU',
    service: { policy: 'proximity', regions: ['eu-west-2', 'eea-north-1', 'us-east-1'] },
    client: CLIENTS.oslo,
    expect: { reason: 'residency-eu-only', regions: ['eea-north-1'], candidates: [['eea-north-1', null], ['eu-west-2', 'residency'], ['us-east-1', 'residency']] },
  },
  {
    name: 'residency: failover skips a non-EU primary for an EU client',
    service: { policy: 'failover', regions: ['us-east-1', 'eu-west-1'] },
    client: CLIENTS.paris,
    expect: {
      reason: 'residency-eu-only',
      regions: ['eu-west-1'],
      candidates: [['us-east-1', 'residency'], ['eu-west-1', null]],
      detail: /only EU regions were considered; primary region us-east-1 is not usable; failed over to eu-west-1/,
      ecsScope: 20,
    },
  },
  {
    name: 'residency: a GDPR service whose regions are all in the EU is not narrowed',
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'] },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-central-1'], candidates: [['eu-central-1', null], ['eu-west-1', null]] },
  },
  {
    name: 'residency: an EU client, no EU region: refused',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-2'] },
    client: CLIENTS.berlin,
    expect: {
      outcome: 'refused',
      reason: 'residency-no-eligible-region',
      regions: [],
      addresses: [],
      candidates: [['eu-west-2', 'residency'], ['us-east-1', 'residency']],
      detail: /^service app\.example\.com is GDPR-resident and has no region in the EU jurisdiction; EU clients cannot be served$/,
      ecsScope: 20,
    },
  },
  {
    name: 'residency: an EU client, every EU region drained: refused, never a non-EU region',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'] },
    regions: { 'eu-west-1': DRAINED },
    client: CLIENTS.berlin,
    expect: {
      outcome: 'refused',
      reason: 'residency-no-eligible-region',
      regions: [],
      candidates: [['eu-west-1', 'drained'], ['us-east-1', 'residency']],
      detail: /every region it has in the EU jurisdiction is drained; EU clients cannot be served/,
    },
  },
  {
    name: 'residency: every EU region unhealthy: fail open inside the EU',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'eu-central-1'] },
    regions: { 'eu-west-1': UNHEALTHY, 'eu-central-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'all-unhealthy-fail-open',
      regions: ['eu-central-1'],
      candidates: [['eu-central-1', null], ['eu-west-1', null], ['us-east-1', 'residency']],
      detail: /no routable region inside the EU .*failing open to eu-central-1 inside the EU/,
    },
  },
  {
    name: 'residency: every EU region unhealthy and the service fails closed: refused',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], whenAllUnhealthy: 'fail-closed' },
    regions: { 'eu-west-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      outcome: 'refused',
      reason: 'all-unhealthy-fail-closed',
      regions: [],
      candidates: [['eu-west-1', 'unhealthy'], ['us-east-1', 'residency']],
      detail: /no routable region inside the EU/,
    },
  },
  {
    name: 'residency: a non-EU client may go anywhere',
    service: { policy: 'proximity', regions: ['eu-west-1', 'us-east-1'] },
    client: CLIENTS.newYork,
    expect: { reason: 'nearest-healthy', regions: ['us-east-1'], candidates: [['us-east-1', null], ['eu-west-1', null]], ecsScope: 18 },
  },
  {
    name: 'residency: a non-EU client in Europe (London) may go outside the EU',
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-west-2'] },
    client: CLIENTS.london,
    expect: { reason: 'nearest-healthy', regions: ['eu-west-2'], candidates: [['eu-west-2', null], ['eu-west-1', null]] },
  },
  {
    name: "residency: an unlocated client of a 'route' service follows the policy",
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], unknownLocation: 'route' },
    client: UNKNOWN_LOCATION,
    expect: { reason: 'unknown-location', regions: ['us-east-1'], candidates: [['us-east-1', null], ['eu-west-1', null]], ecsScope: 24 },
  },
  {
    name: "residency: an unlocated client of a 'treat-as-eu' service gets EU regions only",
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], unknownLocation: 'treat-as-eu' },
    client: UNKNOWN_LOCATION,
    expect: {
      reason: 'residency-eu-only',
      regions: ['eu-west-1'],
      candidates: [['us-east-1', 'residency'], ['eu-west-1', null]],
      detail: /not located and the service treats unlocated clients as EU/,
      ecsScope: 24,
    },
  },
  {
    name: "residency: 'treat-as-eu' and no EU region: refused",
    service: { policy: 'failover', regions: ['us-east-1'], unknownLocation: 'treat-as-eu' },
    client: UNKNOWN_LOCATION,
    expect: { outcome: 'refused', reason: 'residency-no-eligible-region', regions: [], candidates: [['us-east-1', 'residency']], ecsScope: 24 },
  },
  {
    name: "residency: 'none' sends an EU client anywhere",
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-2'], residency: 'none' },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-west-2'], candidates: [['eu-west-2', null], ['us-east-1', null]] },
  },
  {
    name: 'residency: a geolocation entry naming only non-EU regions falls through to EU ones',
    service: {
      policy: 'geolocation',
      regions: ['us-east-1', 'eu-west-1', 'eu-central-1'],
      geolocation: { DE: ['us-east-1'] },
    },
    client: CLIENTS.berlin,
    expect: {
      reason: 'residency-eu-only',
      regions: ['eu-central-1'],
      candidates: [['us-east-1', 'residency'], ['eu-central-1', null], ['eu-west-1', null]],
      detail: /no region of the matched geolocation entries is usable; nearest routable region eu-central-1/,
    },
  },

  // ---- health
  {
    name: 'health: every region unhealthy, fail-open answers in policy order',
    service: { policy: 'failover', regions: ['eu-west-1', 'us-east-1'], residency: 'none' },
    regions: { 'eu-west-1': UNHEALTHY, 'us-east-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'all-unhealthy-fail-open',
      regions: ['eu-west-1'],
      candidates: [['eu-west-1', null], ['us-east-1', null]],
      detail: /^no routable region for service app\.example\.com; failing open to eu-west-1 \(whenAllUnhealthy=fail-open\)$/,
    },
  },
  {
    name: 'health: fail-open never answers a drained region',
    service: { policy: 'failover', regions: ['eu-west-1', 'us-east-1'], residency: 'none' },
    regions: { 'eu-west-1': DRAINED, 'us-east-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: { reason: 'all-unhealthy-fail-open', regions: ['us-east-1'], candidates: [['eu-west-1', 'drained'], ['us-east-1', null]] },
  },
  {
    name: 'health: every region unhealthy, fail-closed refuses',
    service: { policy: 'failover', regions: ['eu-west-1', 'us-east-1'], residency: 'none', whenAllUnhealthy: 'fail-closed' },
    regions: { 'eu-west-1': UNHEALTHY, 'us-east-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      outcome: 'refused',
      reason: 'all-unhealthy-fail-closed',
      regions: [],
      addresses: [],
      candidates: [['eu-west-1', 'unhealthy'], ['us-east-1', 'unhealthy']],
      detail: /fails closed \(whenAllUnhealthy=fail-closed\)/,
      ecsScope: 0,
    },
  },
  {
    name: 'health: every region drained is refused even when failing open',
    service: { policy: 'failover', regions: ['eu-west-1', 'us-east-1'], residency: 'none' },
    regions: { 'eu-west-1': DRAINED, 'us-east-1': DRAINED },
    client: CLIENTS.berlin,
    expect: {
      outcome: 'refused',
      reason: 'all-unhealthy-fail-closed',
      regions: [],
      candidates: [['eu-west-1', 'drained'], ['us-east-1', 'drained']],
      detail: /every region of service app\.example\.com is drained/,
    },
  },
  {
    name: 'health: a drained region is not answered even when healthy and nearest',
    service: { policy: 'proximity', regions: ['eu-central-1', 'eu-west-1'], residency: 'none' },
    regions: { 'eu-central-1': { drained: true, health: 'healthy' } },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-west-1'], candidates: [['eu-central-1', 'drained'], ['eu-west-1', null]] },
  },

  // ---- address family
  {
    name: 'family: AAAA answers the IPv6 endpoints',
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    client: CLIENTS.berlin,
    qtype: 'AAAA',
    expect: { reason: 'nearest-healthy', regions: ['eu-central-1'], addresses: ['2001:db8:e::20'], candidates: [['eu-central-1', null], ['eu-west-1', null]] },
  },
  {
    name: 'family: AAAA skips a region without IPv6',
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-central-1': { ipv6: [] } },
    client: CLIENTS.berlin,
    qtype: 'AAAA',
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-west-1'],
      addresses: ['2001:db8:e::10'],
      candidates: [['eu-central-1', 'no-address'], ['eu-west-1', null]],
    },
  },
  {
    name: 'family: no routable region has the asked family: NODATA',
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1', 'us-east-1'], residency: 'none' },
    regions: { 'eu-west-1': { ipv4: [] }, 'eu-central-1': { ipv4: [] }, 'us-east-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      outcome: 'answer',
      reason: 'no-address',
      regions: [],
      addresses: [],
      candidates: [['eu-central-1', 'no-address'], ['eu-west-1', 'no-address'], ['us-east-1', 'unhealthy']],
      detail: /^no routable region of service app\.example\.com has an IPv4 \(A\) address \(NODATA\)$/,
    },
  },
  {
    name: 'family: an unhealthy region with the family is not used while a routable one exists (NODATA)',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' },
    regions: { 'eu-west-1': { ipv6: [] }, 'eu-central-1': UNHEALTHY },
    client: CLIENTS.berlin,
    qtype: 'AAAA',
    expect: { reason: 'no-address', regions: [], addresses: [], candidates: [['eu-west-1', 'no-address'], ['eu-central-1', 'unhealthy']] },
  },
  {
    name: 'family: failing open, no region has the family: NODATA inside the EU',
    service: { policy: 'failover', regions: ['us-east-1', 'eu-west-1'] },
    regions: { 'eu-west-1': { ipv6: [], health: 'unhealthy' } },
    client: CLIENTS.paris,
    qtype: 'AAAA',
    expect: {
      reason: 'no-address',
      regions: [],
      addresses: [],
      candidates: [['us-east-1', 'residency'], ['eu-west-1', 'no-address']],
      detail: /no non-drained region inside the EU of service app\.example\.com has an IPv6 \(AAAA\) address/,
    },
  },

  // ---- answerCount
  {
    name: 'answerCount: filled from the next candidates in order',
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1', 'eu-north-1', 'eu-south-1'], residency: 'none', answerCount: 3 },
    client: CLIENTS.berlin,
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-central-1', 'eu-north-1', 'eu-south-1'],
      addresses: ['192.0.2.20', '192.0.2.30', '192.0.2.40'],
      candidates: [['eu-central-1', null], ['eu-north-1', null], ['eu-south-1', null], ['eu-west-1', null]],
    },
  },
  {
    name: 'answerCount: unusable regions are skipped while filling',
    service: { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1', 'eu-north-1', 'eu-south-1'], residency: 'none', answerCount: 3 },
    regions: { 'eu-north-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-central-1', 'eu-south-1', 'eu-west-1'],
      candidates: [['eu-central-1', null], ['eu-north-1', 'unhealthy'], ['eu-south-1', null], ['eu-west-1', null]],
    },
  },
  {
    name: 'answerCount: more than there are usable regions answers them all',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1', 'us-east-1'], answerCount: 8 },
    client: CLIENTS.berlin,
    expect: {
      reason: 'residency-eu-only',
      regions: ['eu-west-1', 'eu-central-1'],
      addresses: ['192.0.2.10', '192.0.2.20'],
      candidates: [['eu-west-1', null], ['eu-central-1', null], ['us-east-1', 'residency']],
    },
  },
  {
    name: 'answerCount: every endpoint of each chosen region, without duplicates',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1'], residency: 'none', answerCount: 2 },
    regions: { 'eu-west-1': { ipv4: ['192.0.2.10', '192.0.2.11'] }, 'eu-central-1': { ipv4: ['192.0.2.11', '192.0.2.20'] } },
    client: CLIENTS.berlin,
    expect: {
      reason: 'failover-primary',
      regions: ['eu-west-1', 'eu-central-1'],
      addresses: ['192.0.2.10', '192.0.2.11', '192.0.2.20'],
      candidates: [['eu-west-1', null], ['eu-central-1', null]],
    },
  },
  {
    name: 'answerCount: fail-open fills with unhealthy regions in order',
    service: { policy: 'failover', regions: ['eu-west-1', 'eu-central-1', 'eu-north-1'], answerCount: 2, residency: 'none' },
    regions: { 'eu-west-1': UNHEALTHY, 'eu-central-1': DRAINED, 'eu-north-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'all-unhealthy-fail-open',
      regions: ['eu-west-1', 'eu-north-1'],
      candidates: [['eu-west-1', null], ['eu-central-1', 'drained'], ['eu-north-1', null]],
    },
  },

  // ---- replication: reads (active-passive)
  {
    name: 'replication: a replica lagging beyond maxStalenessMs is not answered for reads',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 5000), report('eu-north-1', 100)]) },
    client: CLIENTS.berlin,
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-north-1'],
      candidates: [['eu-central-1', 'replica-stale'], ['eu-north-1', null], ['eu-west-1', null]],
      detail: /eu-north-1 is the nearest routable region .*stale replicas not used for reads: eu-central-1/,
    },
  },
  {
    name: 'replication: a lag exactly at maxStalenessMs is fresh enough',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 1000), report('eu-north-1', 100)]) },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-central-1'], candidates: [['eu-central-1', null], ['eu-north-1', null], ['eu-west-1', null]] },
  },
  {
    name: 'replication: a report older than the heartbeat timeout (default 60 s) makes a replica stale',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 10, OLD), report('eu-north-1', 100)]) },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-north-1'], candidates: [['eu-central-1', 'replica-stale'], ['eu-north-1', null], ['eu-west-1', null]] },
  },
  {
    name: "replication: the region's own heartbeat timeout replaces the default",
    service: {
      ...BERLIN_REPLICAS,
      replication: activePassive('eu-west-1', [{ ...report('eu-central-1', 10, OLD), maxReportAgeMs: 300_000 }, report('eu-north-1', 100)]),
    },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-central-1'], candidates: [['eu-central-1', null], ['eu-north-1', null], ['eu-west-1', null]] },
  },
  {
    name: 'replication: replicas that never reported are stale; the primary always serves reads',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-west-1', 99_999)]) },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-west-1'], candidates: [['eu-central-1', 'replica-stale'], ['eu-north-1', 'replica-stale'], ['eu-west-1', null]] },
  },
  {
    name: 'replication: without maxStalenessMs no replica is excluded for lag',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 5000, OLD)], { maxStalenessMs: null }) },
    client: CLIENTS.berlin,
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-central-1'],
      candidates: [['eu-central-1', null], ['eu-north-1', null], ['eu-west-1', null]],
      detail: /without a staleness bound/,
    },
  },
  {
    name: 'replication: unhealthy comes before replica-stale',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 5000), report('eu-north-1', 100)]) },
    regions: { 'eu-central-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: { reason: 'nearest-healthy', regions: ['eu-north-1'], candidates: [['eu-central-1', 'unhealthy'], ['eu-north-1', null], ['eu-west-1', null]] },
  },
  {
    name: 'replication: primary unhealthy and every replica stale: fail open over all of them',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 5000)]) },
    regions: { 'eu-west-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      reason: 'all-unhealthy-fail-open',
      regions: ['eu-central-1'],
      candidates: [['eu-central-1', null], ['eu-north-1', null], ['eu-west-1', null]],
      detail: /stale replicas count as not routable/,
    },
  },
  {
    name: 'replication: primary unhealthy and every replica stale, fail-closed: refused',
    service: { ...BERLIN_REPLICAS, whenAllUnhealthy: 'fail-closed', replication: activePassive('eu-west-1', []) },
    regions: { 'eu-west-1': UNHEALTHY },
    client: CLIENTS.berlin,
    expect: {
      outcome: 'refused',
      reason: 'all-unhealthy-fail-closed',
      regions: [],
      addresses: [],
      candidates: [['eu-central-1', 'replica-stale'], ['eu-north-1', 'replica-stale'], ['eu-west-1', 'unhealthy']],
    },
  },

  // ---- replication: writes (active-passive)
  {
    name: 'write: an unsafe request goes to the primary, not to the nearest region',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 10), report('eu-north-1', 10)]) },
    client: CLIENTS.berlin,
    access: 'write',
    expect: {
      reason: 'write-primary',
      regions: ['eu-west-1'],
      candidates: [['eu-central-1', 'not-primary'], ['eu-north-1', 'not-primary'], ['eu-west-1', null]],
      detail: /^writes to service app\.example\.com go to its primary eu-west-1 \(active-passive\)$/,
      ecsScope: 0,
    },
  },
  {
    name: 'write: the write name answers the primary',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-north-1', [], { writeFqdn: 'write.app.example.com' }) },
    client: CLIENTS.tokyo,
    fqdn: 'write.app.example.com',
    expect: { reason: 'write-primary', regions: ['eu-north-1'], candidates: [['eu-north-1', null], ['eu-central-1', 'not-primary'], ['eu-west-1', 'not-primary']], ecsScope: 0 },
  },
  {
    name: 'write: an unhealthy primary is still the only writer (failing open)',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 10)]) },
    regions: { 'eu-west-1': UNHEALTHY },
    client: CLIENTS.berlin,
    access: 'write',
    expect: {
      reason: 'all-unhealthy-fail-open',
      regions: ['eu-west-1'],
      candidates: [['eu-central-1', 'not-primary'], ['eu-north-1', 'not-primary'], ['eu-west-1', null]],
      detail: /writes: the primary is not routable/,
    },
  },
  {
    name: 'write: a drained primary cannot take writes: refused',
    service: { ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', []) },
    regions: { 'eu-west-1': DRAINED },
    client: CLIENTS.berlin,
    access: 'write',
    expect: {
      outcome: 'refused',
      reason: 'all-unhealthy-fail-closed',
      regions: [],
      candidates: [['eu-central-1', 'not-primary'], ['eu-north-1', 'not-primary'], ['eu-west-1', 'drained']],
      detail: /go to the primary only and its primary eu-west-1 is drained/,
    },
  },
  {
    name: 'write: residency first: an EU client, a GDPR service, the primary outside the EU: refused',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'eu-central-1'], replication: activePassive('us-east-1', [report('eu-central-1', 10)]) },
    client: CLIENTS.berlin,
    access: 'write',
    expect: {
      outcome: 'refused',
      reason: 'residency-primary-outside-eu',
      regions: [],
      addresses: [],
      candidates: [['eu-central-1', 'not-primary'], ['eu-west-1', 'not-primary'], ['us-east-1', 'residency']],
      detail: /primary us-east-1 is in jurisdiction US, outside the EU; writes from EU clients are refused/,
      ecsScope: 20,
    },
  },
  {
    name: 'write: residency: the same service reads from its fresh EU replica',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'eu-central-1'], replication: activePassive('us-east-1', [report('eu-central-1', 10)]) },
    client: CLIENTS.berlin,
    expect: { reason: 'residency-eu-only', regions: ['eu-central-1'], candidates: [['eu-central-1', null], ['eu-west-1', 'replica-stale'], ['us-east-1', 'residency']] },
  },
  {
    name: 'write: residency: a non-EU client writes to the primary outside the EU',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], replication: activePassive('us-east-1', []) },
    client: CLIENTS.tokyo,
    access: 'write',
    expect: { reason: 'write-primary', regions: ['us-east-1'], candidates: [['eu-west-1', 'not-primary'], ['us-east-1', null]], ecsScope: 16 },
  },
  {
    name: 'write: residency: an EU client writes to an EU primary',
    service: { policy: 'proximity', regions: ['us-east-1', 'eu-west-1'], replication: activePassive('eu-west-1', []) },
    client: CLIENTS.paris,
    access: 'write',
    expect: {
      reason: 'write-primary',
      regions: ['eu-west-1'],
      candidates: [['eu-west-1', null], ['us-east-1', 'residency']],
      detail: /primary eu-west-1 \(active-passive\); the client is in the EU \(FR\) and the primary is in the EU/,
    },
  },

  // ---- replication: active-active
  {
    name: 'active-active: writes go to the nearest healthy region, naming the conflict resolution',
    service: { ...BERLIN_REPLICAS, replication: { mode: 'active-active', conflictResolution: 'crdt', members: [report('eu-central-1', 5000, OLD)] } },
    client: CLIENTS.berlin,
    access: 'write',
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-central-1'],
      candidates: [['eu-central-1', null], ['eu-north-1', null], ['eu-west-1', null]],
      detail: /active-active: writes go to the nearest usable region, conflicts resolved by crdt/,
      ecsScope: 20,
    },
  },
  {
    name: 'active-active: an unhealthy peer is skipped for writes too',
    service: { ...BERLIN_REPLICAS, replication: { mode: 'active-active', conflictResolution: 'last-write-wins', writeFqdn: 'w.app.example.com' } },
    regions: { 'eu-central-1': UNHEALTHY },
    client: CLIENTS.berlin,
    fqdn: 'w.app.example.com',
    expect: {
      reason: 'nearest-healthy',
      regions: ['eu-north-1'],
      candidates: [['eu-central-1', 'unhealthy'], ['eu-north-1', null], ['eu-west-1', null]],
      detail: /conflicts resolved by last-write-wins/,
    },
  },
];

describe('decide', () => {
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, s) => {
    const decision = run(s);
    const e = s.expect;
    expect(decision.reason).toBe(e.reason);
    expect(decision.outcome).toBe(e.outcome ?? 'answer');
    expect(decision.regions).toEqual(e.regions);
    expect(decision.addresses).toEqual(e.addresses ?? e.regions.map((r) => ADDRESS[r]));
    if (e.candidates.length > 0) {
      expect(decision.candidates.map((c) => [c.region, c.excludedBecause ?? null])).toEqual(e.candidates);
    }
    if (e.detail) expect(decision.detail).toMatch(e.detail);
    if (e.ecsScope !== undefined) expect(decision.ecsScope).toBe(e.ecsScope);
    // Invariants of every decision.
    expect(decision.service).toBe(s.fqdn ?? 'app.example.com');
    expect(decision.ttl).toBe(s.service.ttl ?? 30);
    expect(decision.candidates.filter((c) => c.chosen).map((c) => c.region).sort()).toEqual([...decision.regions].sort());
    expect(decision.candidates.filter((c) => c.chosen && c.excludedBecause !== undefined)).toEqual([]);
    expect(decision.candidates.map((c) => c.region).sort()).toEqual([...s.service.regions].sort());
  });

  it('asserts every Reason in at least one scenario', () => {
    const all: readonly Reason[] = REASONS;
    expect(new Set(scenarios.map((s) => s.expect.reason))).toEqual(new Set(all));
  });

  it('returns null for a name that is not a service', () => {
    const snapshot = snapshotOf([service({ policy: 'failover', regions: ['eu-west-1'] })]);
    expect(decide(snapshot, query(CLIENTS.berlin, 'A', 'www.example.com'))).toBeNull();
    expect(decide(snapshot, query(CLIENTS.berlin, 'A', 'APP.example.com'))).toBeNull(); // callers lower-case
  });

  it('reports candidate facts: distance rounded to 0.1 km, healthy, allowed, chosen', () => {
    const snapshot = snapshotOf([service({ policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'eu-central-1'] })], {
      'eu-west-1': UNHEALTHY,
    });
    const decision = decide(snapshot, query(CLIENTS.berlin)) as Decision;
    expect(decision.candidates).toEqual([
      { region: 'eu-central-1', distanceKm: 423.4, healthy: true, allowed: true, chosen: true },
      { region: 'eu-west-1', distanceKm: 1316.6, healthy: false, allowed: true, chosen: false, excludedBecause: 'unhealthy' },
      { region: 'us-east-1', distanceKm: 6726.8, healthy: true, allowed: false, chosen: false, excludedBecause: 'residency' },
    ]);
    const unknown = decide(snapshot, query(UNKNOWN_LOCATION)) as Decision;
    expect(unknown.candidates.map((c) => c.distanceKm)).toEqual([null, null, null]);
    // An unchosen, non-excluded candidate carries no excludedBecause key at all.
    const plain = decide(snapshotOf([service({ policy: 'failover', regions: ['eu-west-1', 'eu-central-1'] })]), query(CLIENTS.berlin)) as Decision;
    expect(Object.keys(plain.candidates[1])).not.toContain('excludedBecause');
  });

  it('shows each candidate\'s role and last reported lag for replicated services', () => {
    const snapshot = snapshotOf([
      service({ ...BERLIN_REPLICAS, replication: activePassive('eu-west-1', [report('eu-central-1', 5000), report('eu-north-1', 100)]) }),
    ]);
    const decision = decide(snapshot, query(CLIENTS.berlin)) as Decision;
    expect(decision.candidates).toEqual([
      { region: 'eu-central-1', distanceKm: 423.4, healthy: true, allowed: true, chosen: false, role: 'replica', lagMs: 5000, excludedBecause: 'replica-stale' },
      { region: 'eu-north-1', distanceKm: 810.7, healthy: true, allowed: true, chosen: true, role: 'replica', lagMs: 100 },
      { region: 'eu-west-1', distanceKm: 1316.6, healthy: true, allowed: true, chosen: false, role: 'primary', lagMs: null },
    ]);
    const aa = snapshotOf([service({ ...BERLIN_REPLICAS, replication: { mode: 'active-active', conflictResolution: 'vector-clocks' } })]);
    expect((decide(aa, query(CLIENTS.berlin)) as Decision).candidates.map((c) => c.role)).toEqual(['peer', 'peer', 'peer']);
  });

  it('a write name is a service-like entry: same regions and ttl, writes to its service', () => {
    const snapshot = snapshotOf([service({ ...BERLIN_REPLICAS, ttl: 60, replication: activePassive('eu-north-1', [], { writeFqdn: 'write.app.example.com' }) })]);
    const entry = snapshot.services.get('write.app.example.com');
    expect(entry).toMatchObject({ fqdn: 'write.app.example.com', writeOf: 'app.example.com', regions: BERLIN_REPLICAS.regions, ttl: 60, zone: 'example.com' });
    const write = decide(snapshot, query(CLIENTS.berlin, 'A', 'write.app.example.com')) as Decision;
    const read = decide(snapshot, query(CLIENTS.berlin)) as Decision;
    expect([write.regions, write.ttl, write.reason]).toEqual([['eu-north-1'], 60, 'write-primary']);
    expect(read.regions).toEqual(['eu-north-1']); // the only fresh region for reads: the primary
    // HTTP (redirects) too: an unsafe method is a write.
    expect(decide(snapshot, { ...query(CLIENTS.tokyo, 'HTTP'), access: 'write' })!.addresses).toEqual(['https://eu-north-1.app.example.com']);
  });

  it('uses the service ttl', () => {
    const snapshot = snapshotOf([service({ policy: 'failover', regions: ['eu-west-1'], ttl: 300 })]);
    expect(decide(snapshot, query(CLIENTS.berlin))?.ttl).toBe(300);
  });

  describe('weighted', () => {
    const regions = ['eu-west-1', 'eu-central-1', 'eu-north-1'];
    const snapshot = snapshotOf([service({ policy: 'weighted', regions, residency: 'none' })], {
      'eu-west-1': { weight: 100 },
      'eu-central-1': { weight: 300 },
      'eu-north-1': { weight: 600 },
    });

    it('answers the rendezvous winner for the client subnet, reason weighted', () => {
      for (let i = 0; i < 200; i++) {
        const ip = `198.51.${i}.9`;
        const decision = decide(snapshot, query(CLIENTS.berlin, 'A', 'app.example.com', ip)) as Decision;
        const expected = rendezvousOrder(clientHashKey(ip, 4), regions.map((name) => snapshot.regions.get(name)!))[0].name;
        expect(decision.reason).toBe('weighted');
        expect(decision.regions).toEqual([expected]);
      }
    });

    it('is stable: every host of a /24 and every repeat gets the same region', () => {
      const answers = new Set<string>();
      for (let host = 1; host < 255; host += 7) {
        for (const location of [CLIENTS.berlin, CLIENTS.tokyo, UNKNOWN_LOCATION]) {
          answers.add((decide(snapshot, query(location, 'A', 'app.example.com', `203.0.113.${host}`)) as Decision).regions[0]);
        }
      }
      expect(answers.size).toBe(1);
    });

    it('moves only the clients of a region that becomes unhealthy', () => {
      const before = new Map<string, string>();
      for (let i = 0; i < 500; i++) before.set(`10.1.${i % 256}.${i >> 8}`, '');
      for (const ip of before.keys()) before.set(ip, (decide(snapshot, query(CLIENTS.berlin, 'A', 'app.example.com', ip)) as Decision).regions[0]);
      const degraded = snapshotOf([service({ policy: 'weighted', regions, residency: 'none' })], {
        'eu-west-1': { weight: 100 },
        'eu-central-1': { weight: 300, health: 'unhealthy' },
        'eu-north-1': { weight: 600 },
      });
      const wrongfullyMoved = [...before].filter(([ip, region]) => {
        const after = (decide(degraded, query(CLIENTS.berlin, 'A', 'app.example.com', ip)) as Decision).regions[0];
        return region !== 'eu-central-1' && after !== region;
      });
      expect(wrongfullyMoved).toEqual([]);
    });

    it('uses a weight-0 region only when no other can answer', () => {
      const standby = snapshotOf([service({ policy: 'weighted', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' })], {
        'eu-central-1': { weight: 0 },
      });
      for (let i = 0; i < 50; i++) {
        expect((decide(standby, query(CLIENTS.berlin, 'A', 'app.example.com', `192.0.${i}.1`)) as Decision).regions).toEqual(['eu-west-1']);
      }
      const primaryDown = snapshotOf([service({ policy: 'weighted', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' })], {
        'eu-central-1': { weight: 0 },
        'eu-west-1': UNHEALTHY,
      });
      const decision = decide(primaryDown, query(CLIENTS.berlin)) as Decision;
      expect(decision.regions).toEqual(['eu-central-1']);
      expect(decision.reason).toBe('weighted');
    });
  });

  describe('ecsScope', () => {
    const v4 = (prefixLength: number, base: GeoLocation = CLIENTS.berlin): GeoLocation => ({ ...base, prefixLength });
    it.each<[string, Omit<ServiceInput, 'fqdn'>, GeoLocation, string | undefined, number]>([
      ['failover, no residency: same answer for everyone', { policy: 'failover', regions: ['eu-west-1', 'us-east-1'], residency: 'none' }, v4(20), undefined, 0],
      ['failover, GDPR, all regions in the EU: same answer for everyone', { policy: 'failover', regions: ['eu-west-1', 'eu-central-1'] }, v4(20), undefined, 0],
      ['failover, GDPR with a non-EU region: depends on location', { policy: 'failover', regions: ['eu-west-1', 'us-east-1'] }, v4(20), undefined, 20],
      ['failover, GDPR with a non-EU region, non-EU client: still location', { policy: 'failover', regions: ['eu-west-1', 'us-east-1'] }, v4(18, CLIENTS.newYork), undefined, 18],
      ['a single-region service', { policy: 'proximity', regions: ['eu-west-1'] }, v4(20), undefined, 0],
      ['a single non-EU region, GDPR: EU clients are refused, so location matters', { policy: 'proximity', regions: ['us-east-1'] }, v4(20), undefined, 20],
      ['proximity', { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, v4(21), undefined, 21],
      ['geolocation', { policy: 'geolocation', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, v4(16), undefined, 16],
      ['proximity, unlocated (prefix 0 from the locator): the /24', { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, UNKNOWN_LOCATION, undefined, 24],
      ['proximity, unlocated IPv6: the /48', { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, UNKNOWN_LOCATION, '2001:db8:1::1', 48],
      ['proximity over IPv6', { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, v4(56), '2001:db8:1::1', 56],
      ['weighted over IPv4: the /24 it hashes', { policy: 'weighted', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, v4(20), undefined, 24],
      ['weighted over IPv6: the /48 it hashes', { policy: 'weighted', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, v4(32), '2001:db8:1::1', 48],
      ['weighted with residency and a longer geo prefix', { policy: 'weighted', regions: ['eu-west-1', 'us-east-1'] }, v4(28), undefined, 28],
      ['weighted with a single region', { policy: 'weighted', regions: ['eu-west-1'], residency: 'none' }, v4(20), undefined, 0],
      ['never more than 32 for IPv4', { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, v4(40), undefined, 32],
      ['never more than 128 for IPv6', { policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], residency: 'none' }, v4(130), '2001:db8:1::1', 128],
    ])('%s -> %p', (_name, settings, location, ip, expected) => {
      const snapshot = snapshotOf([service(settings)]);
      expect(decide(snapshot, query(location, 'A', 'app.example.com', ip))?.ecsScope).toBe(expected);
    });
  });

  it('works on a snapshot not made by buildSnapshot (plans computed per call)', () => {
    const built = snapshotOf([service({ policy: 'proximity', regions: ['us-east-1', 'eu-west-2', 'eu-west-1'] })]);
    const handMade: RoutingSnapshot = {
      version: 7,
      builtAt: built.builtAt,
      zones: new Map(built.zones),
      regions: new Map(built.regions),
      services: new Map(built.services),
    };
    expect(decide(handMade, query(CLIENTS.berlin))).toEqual(decide(built, query(CLIENTS.berlin)));
  });

  it('never throws on odd but typed input', () => {
    const snapshot = snapshotOf([service({ policy: 'weighted', regions: ['eu-west-1', 'us-east-1'] })]);
    const odd: GeoLocation[] = [
      located('XX', 'ZZ', Number.NaN, Number.NaN, -3),
      located('', '', 91, 181),
      { ...UNKNOWN_LOCATION, prefixLength: Number.NaN },
    ];
    for (const location of odd) {
      for (const ip of ['garbage', '', '::', '300.1.1.1']) {
        expect(() => decide(snapshot, query(location, 'AAAA', 'app.example.com', ip))).not.toThrow();
      }
    }
  });
});

describe('decide for HTTP redirects (qtype HTTP)', () => {
  it('answers with the base URLs of the chosen regions, by the same policy and filters as DNS', () => {
    const snap = snapshotOf([service({ policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'], residency: 'gdpr' })]);
    const d = decide(snap, query(CLIENTS.berlin, 'HTTP'))!;
    expect(d.regions).toEqual(['eu-west-1']);
    expect(d.addresses).toEqual(['https://eu-west-1.app.example.com']);
    expect(d.reason).toBe('residency-eu-only');
    expect(decide(snap, query(CLIENTS.tokyo, 'HTTP'))!.addresses).toEqual(['https://ap-northeast-1.app.example.com']);
  });

  it('skips regions without a base URL (no-address when none has one)', () => {
    const snap = snapshotOf([service({ policy: 'failover', regions: ['us-east-1', 'eu-west-1'], residency: 'none' })], { 'us-east-1': { baseUrl: null } });
    const d = decide(snap, query(CLIENTS.newYork, 'HTTP'))!;
    expect(d.regions).toEqual(['eu-west-1']);
    expect(d.candidates.find((c) => c.region === 'us-east-1')?.excludedBecause).toBe('no-address');
    const none = snapshotOf([service({ policy: 'failover', regions: ['us-east-1'], residency: 'none' })], { 'us-east-1': { baseUrl: null } });
    expect(decide(none, query(CLIENTS.newYork, 'HTTP'))!.reason).toBe('no-address');
  });
});
