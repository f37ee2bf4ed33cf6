import type { AppConfig } from '../config/config';
import { REGIONS, ZONE } from '../routing/fixtures';
import { buildSnapshot, type ReplicaInput } from '../routing/snapshot';
import type { RoutingSnapshot } from '../routing/types';
import { REPLICATION_CHANGED, type EventBus } from '../common/events';
import type { SnapshotStore } from '../snapshot/snapshot.store';
import { LAG_REFRESH_MS, ReplicationLagStore, differences } from './lag.store';
import type { ReplicationRepository } from './replication.repository';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function snapshotAt(now: number, members: ReplicaInput[], maxStalenessMs: number | null = 1000): RoutingSnapshot {
  return buildSnapshot(
    {
      zones: [ZONE],
      regions: [REGIONS.euWest1, REGIONS.euCentral1, REGIONS.usEast1],
      services: [
        { fqdn: 'app.example.com', policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], replication: { mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs, members } },
        { fqdn: 'cdn.example.com', policy: 'proximity', regions: ['eu-west-1', 'us-east-1'] },
      ],
    },
    1,
    new Date(now),
  );
}

/** A lag store over fakes: a snapshot we set, events we record, a repository that stores nothing. */
function harness(initial: RoutingSnapshot) {
  let snapshot = initial;
  const emitted: unknown[] = [];
  const saved: unknown[] = [];
  const store = new ReplicationLagStore(
    { instanceId: 'test-1' } as AppConfig,
    { saveLags: async (region: string, lags: unknown) => void saved.push([region, lags]) } as unknown as ReplicationRepository,
    { emit: (name: string, payload: unknown) => (emitted.push([name, payload]), true) } as unknown as EventBus,
    { current: () => snapshot, setReplicationSource: () => undefined } as unknown as SnapshotStore,
  );
  return { store, emitted, saved, setSnapshot: (s: RoutingSnapshot) => (snapshot = s) };
}

describe('ReplicationLagStore', () => {
  it('records a number for every replicated service of the region, and asks for a rebuild when eligibility changes', async () => {
    const h = harness(snapshotAt(T0, []));
    await h.store.report('eu-central-1', { kind: 'all', lagMs: 200 }, T0);
    expect(h.store.lagOf('app.example.com', 'eu-central-1')).toEqual({ lagMs: 200, reportedAtMs: T0 });
    expect(h.store.lagOf('cdn.example.com', 'eu-central-1')).toBeUndefined();
    expect(h.emitted).toEqual([[REPLICATION_CHANGED, { eligibility: true }]]);
    expect(h.saved).toHaveLength(1);
    expect(h.store.reportsFor('app.example.com')).toEqual([{ region: 'eu-central-1', lagMs: 200, reportedAt: '2025-01-01T00:00:00.000Z' }]);
    expect(h.store.reportsOfRegion('eu-central-1')).toEqual([{ service: 'app.example.com', lagMs: 200, reportedAt: '2025-01-01T00:00:00.000Z' }]);
  });

  it('ignores per-service lags for services the region does not serve', async () => {
    const h = harness(snapshotAt(T0, []));
    await h.store.report('us-east-1', { kind: 'per-service', lags: new Map([['app.example.com', 5], ['cdn.example.com', 5], ['nope.example.com', 5]]) }, T0);
    expect(h.store.reportsFor('app.example.com')).toEqual([]);
    expect(h.emitted).toEqual([]);
    expect(h.saved).toEqual([]);
  });

  it('asks again when a report ages out, and for lag-only changes at most every LAG_REFRESH_MS', async () => {
    const h = harness(snapshotAt(T0, []));
    await h.store.report('eu-central-1', { kind: 'all', lagMs: 200 }, T0);
    h.setSnapshot(snapshotAt(T0, h.store.reportsFor('app.example.com').map((r) => ({ ...r }))));
    h.emitted.length = 0;
    h.store.check(T0 + 100);
    expect(h.emitted).toEqual([]);
    // A new value within the bound: no eligibility change, and the last ask was moments ago.
    await h.store.report('eu-central-1', { kind: 'all', lagMs: 300 }, T0 + 200);
    expect(h.emitted).toEqual([]);
    h.store.check(T0 + LAG_REFRESH_MS + 1);
    expect(h.emitted).toEqual([[REPLICATION_CHANGED, { eligibility: false }]]);
    // 60 s (the default heartbeat timeout) after the last report it is too old: at once.
    h.setSnapshot(snapshotAt(T0 + LAG_REFRESH_MS + 2, h.store.reportsFor('app.example.com').map((r) => ({ ...r }))));
    h.emitted.length = 0;
    h.store.check(T0 + 200 + 60_001);
    expect(h.emitted).toEqual([[REPLICATION_CHANGED, { eligibility: true }]]);
  });

  it('differences: compares the snapshot with the reports as of a time', () => {
    const snap = snapshotAt(T0, [{ region: 'eu-central-1', lagMs: 200, reportedAt: new Date(T0).toISOString() }]);
    const same = () => ({ lagMs: 200, reportedAtMs: T0 });
    expect(differences(snap, (_s, r) => (r === 'eu-central-1' ? same() : undefined), T0)).toEqual({ eligibility: false, lag: false });
    expect(differences(snap, (_s, r) => (r === 'eu-central-1' ? { lagMs: 5000, reportedAtMs: T0 } : undefined), T0)).toEqual({ eligibility: true, lag: true });
    expect(differences(snap, (_s, r) => (r === 'eu-central-1' ? { lagMs: 201, reportedAtMs: T0 } : undefined), T0)).toEqual({ eligibility: false, lag: true });
    expect(differences(snap, (_s, r) => (r === 'eu-central-1' ? same() : undefined), T0 + 61_000)).toEqual({ eligibility: true, lag: false });
    expect(differences(snap, () => undefined, T0)).toEqual({ eligibility: true, lag: true });
  });
});
