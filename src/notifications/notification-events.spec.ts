import type { AuditChange } from '../common/audit';
import { REGIONS, ZONE, service } from '../routing/fixtures';
import { buildSnapshot } from '../routing/snapshot';
import { eventsOf, refusalAlert, replicaFlips, retryDelayMs } from './notification-events';

const transition = (from: string, to: string): AuditChange => ({ action: 'transition', kind: 'region-health', name: 'eu-west-1', before: { status: from }, after: { status: to, source: 'webhook', reason: 'disk full' } });

describe('eventsOf: which changes raise which notifications', () => {
  it.each<[string, AuditChange[], string[]]>([
    ['healthy -> unhealthy', [transition('healthy', 'unhealthy')], ['region.unhealthy']],
    ['unknown -> unhealthy', [transition('unknown', 'unhealthy')], ['region.unhealthy']],
    ['unhealthy -> healthy: recovered', [transition('unhealthy', 'healthy')], ['region.healthy']],
    ['unknown -> healthy: a first verdict, no alert', [transition('unknown', 'healthy')], []],
    ['a promotion', [{ action: 'promote', kind: 'service', name: 'app.example.com', before: { primary: 'eu-west-1' }, after: { primary: 'eu-central-1', trigger: 'automatic' } }], ['replication.promoted']],
    ['registry changes raise nothing', [{ action: 'update', kind: 'region', name: 'eu-west-1', before: {}, after: {} }], []],
    ['several in one transaction', [transition('healthy', 'unhealthy'), transition('unhealthy', 'healthy')], ['region.unhealthy', 'region.healthy']],
  ])('%s', (_name, changes, types) => {
    expect(eventsOf(changes).map((e) => e.type)).toEqual(types);
  });

  it('carries what a receiver needs', () => {
    expect(eventsOf([transition('healthy', 'unhealthy')])[0].data).toEqual({ region: 'eu-west-1', from: 'healthy', to: 'unhealthy', source: 'webhook', reason: 'disk full' });
    const [promoted] = eventsOf([{ action: 'promote', kind: 'service', name: 'app.example.com', before: { primary: 'eu-west-1' }, after: { primary: 'eu-central-1', trigger: 'automatic', forced: false } }]);
    expect(promoted.data).toEqual({ service: 'app.example.com', from: 'eu-west-1', to: 'eu-central-1', primary: 'eu-central-1', trigger: 'automatic', forced: false });
  });

  it.each([[1, 1000], [2, 2000], [3, 4000], [8, 128_000], [9, 256_000], [10, 300_000], [20, 300_000]])('after %i failed attempts, wait %i ms', (n, ms) => {
    expect(retryDelayMs(n)).toBe(ms);
  });
});

describe('replicaFlips: replicas that became stale or fresh between two snapshots', () => {
  const NOW = Date.parse('2026-06-01T12:00:00Z');
  const at = (ms: number) => new Date(NOW - ms).toISOString();
  const snap = (members: { region: string; lagMs?: number | null; reportedAt?: string | null }[] | null, version = 1) =>
    buildSnapshot({
      zones: [ZONE],
      regions: [REGIONS.euWest1, REGIONS.euCentral1, REGIONS.euNorth1],
      services: members === null ? [] : [service({ policy: 'proximity', regions: ['eu-west-1', 'eu-central-1', 'eu-north-1'], replication: { mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: 1000, members } })],
    }, version, new Date(NOW));
  const fresh = { region: 'eu-central-1', lagMs: 100, reportedAt: at(500) };
  const lagging = { region: 'eu-central-1', lagMs: 5000, reportedAt: at(200) };

  it.each<[string, ReturnType<typeof snap>, ReturnType<typeof snap>, string[]]>([
    ['nothing changed', snap([fresh]), snap([fresh], 2), []],
    ['a first report makes a replica fresh', snap([]), snap([fresh], 2), ['replica.fresh eu-central-1']],
    ['a lag beyond maxStalenessMs makes it stale', snap([fresh]), snap([lagging], 2), ['replica.stale eu-central-1']],
    ['a new service: its first state is no news', snap(null), snap([fresh], 2), []],
    ['the primary is never a flip', snap([{ region: 'eu-west-1', lagMs: 5000, reportedAt: at(100) }]), snap([], 2), []],
  ])('%s', (_name, prev, next, expected) => {
    expect(replicaFlips(prev, next).map((f) => `${f.type} ${f.data.region}`)).toEqual(expected);
  });

  it('keys a flip by service, region and report, the same on every instance', () => {
    const [flip] = replicaFlips(snap([fresh]), snap([lagging], 2));
    expect(flip).toEqual({
      type: 'replica.stale',
      key: `replica.stale:app.example.com:eu-central-1:${lagging.reportedAt}`,
      data: { service: 'app.example.com', region: 'eu-central-1', staleBecause: 'lag-exceeds-bound', lagMs: 5000, reportedAt: lagging.reportedAt },
    });
    expect(replicaFlips(snap([fresh]), snap([lagging], 3))[0].key).toBe(flip.key);
  });
});

describe('refusalAlert', () => {
  const m = (entries: [string, number][]) => new Map(entries);
  const cases: { name: string; prev: [string, number][]; cur: [string, number][]; threshold: number; want: ReturnType<typeof refusalAlert> }[] = [
    { name: 'below the threshold', prev: [['a', 5]], cur: [['a', 7]], threshold: 3, want: null },
    { name: 'at the threshold, one service', prev: [['a', 5]], cur: [['a', 8]], threshold: 3, want: { total: 3, services: [{ service: 'a', count: 3 }] } },
    { name: 'summed over services, most first', prev: [['a', 1]], cur: [['a', 2], ['b', 4]], threshold: 5, want: { total: 5, services: [{ service: 'b', count: 4 }, { service: 'a', count: 1 }] } },
    { name: 'unchanged services left out', prev: [['a', 9], ['b', 1]], cur: [['a', 9], ['b', 11]], threshold: 10, want: { total: 10, services: [{ service: 'b', count: 10 }] } },
    { name: 'off (threshold 0)', prev: [], cur: [['a', 1000]], threshold: 0, want: null },
    { name: 'first window counts from zero', prev: [], cur: [['a', 3]], threshold: 3, want: { total: 3, services: [{ service: 'a', count: 3 }] } },
  ];
  it.each(cases)('$name', ({ prev, cur, threshold, want }) => {
    expect(refusalAlert(m(prev), m(cur), threshold)).toEqual(want);
  });

  it('lists at most ten services', () => {
    const cur = m(Array.from({ length: 12 }, (_, i) => [`s${i}`, i + 1] as [string, number]));
    const alert = refusalAlert(new Map(), cur, 1)!;
    expect(alert.services).toHaveLength(10);
    expect(alert.services[0]).toEqual({ service: 's11', count: 12 });
    expect(alert.total).toBe(78);
  });
});
