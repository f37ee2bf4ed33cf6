import { ZONE, REGIONS, snapshotOf, service } from './fixtures';
import {
  DEFAULT_LAG_REPORT_MAX_AGE_SECONDS,
  assessPromotionTarget,
  choosePromotion,
  isForceable,
  lagReportMaxAgeMs,
  promotionDue,
  replicaStaleness,
  replicationView,
  roleOf,
  type PromotionInput,
  type PromotionRefusal,
  type PromotionRegion,
  type StalenessInput,
} from './replication';
import { planFor } from './service-plan';
import { SnapshotValidationError, buildSnapshot, type ReplicationInput, type ServiceInput } from './snapshot';
import type { ReplicaStaleness, ServiceSnap } from './types';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('replicaStaleness (read eligibility)', () => {
  const base: StalenessInput = { role: 'replica', lagMs: 100, reportedAtMs: NOW - 10_000, maxStalenessMs: 1000, maxReportAgeMs: 60_000, now: NOW };
  it.each<[string, Partial<StalenessInput>, ReplicaStaleness | null]>([
    ['a fresh replica within the bound', {}, null],
    ['lag exactly at the bound', { lagMs: 1000 }, null],
    ['lag beyond the bound', { lagMs: 1001 }, 'lag-exceeds-bound'],
    ['a report exactly as old as the timeout', { reportedAtMs: NOW - 60_000 }, null],
    ['a report older than the timeout', { reportedAtMs: NOW - 60_001 }, 'report-too-old'],
    ['an old report wins over a high lag', { reportedAtMs: NOW - 120_000, lagMs: 9999 }, 'report-too-old'],
    ['no report', { lagMs: null, reportedAtMs: null }, 'no-report'],
    ['the region heartbeat timeout applies', { reportedAtMs: NOW - 100_000, maxReportAgeMs: 300_000 }, null],
    ['no bound: never stale', { maxStalenessMs: null, lagMs: null, reportedAtMs: null }, null],
    ['a bound of 0: only a zero lag', { maxStalenessMs: 0, lagMs: 0 }, null],
    ['a bound of 0, any lag', { maxStalenessMs: 0, lagMs: 1 }, 'lag-exceeds-bound'],
    ['the primary: never stale', { role: 'primary', lagMs: 99_999 }, null],
    ['the primary without a report', { role: 'primary', lagMs: null, reportedAtMs: null }, null],
    ['an active-active peer: never stale', { role: 'peer', lagMs: 99_999 }, null],
  ])('%s', (_name, over, expected) => {
    expect(replicaStaleness({ ...base, ...over })).toBe(expected);
  });

  it('uses the heartbeat timeout, else 60 s', () => {
    expect(DEFAULT_LAG_REPORT_MAX_AGE_SECONDS).toBe(60);
    expect([lagReportMaxAgeMs(null), lagReportMaxAgeMs(undefined), lagReportMaxAgeMs(0), lagReportMaxAgeMs(15)]).toEqual([60_000, 60_000, 60_000, 15_000]);
  });

  it('names roles', () => {
    expect([roleOf('active-passive', 'a', 'a'), roleOf('active-passive', 'a', 'b'), roleOf('active-active', null, 'a')]).toEqual(['primary', 'replica', 'peer']);
  });
});

describe('promotion choice', () => {
  const region = (name: string, jurisdiction: string, lagMs: number | null, over: Partial<PromotionRegion> = {}): PromotionRegion => ({
    region: name,
    jurisdiction,
    health: 'healthy',
    drained: false,
    lagMs,
    reportedAtMs: lagMs === null ? null : NOW - 5000,
    maxReportAgeMs: 60_000,
    ...over,
  });
  const input = (regions: PromotionRegion[], over: Partial<PromotionInput> = {}): PromotionInput => ({
    primary: 'eu-west-1',
    residency: 'gdpr',
    maxStalenessMs: 1000,
    regions: [region('eu-west-1', 'EU', 0, { health: 'unhealthy' }), ...regions],
    now: NOW,
    ...over,
  });

  it.each<[string, PromotionRegion[], Partial<PromotionInput>, string | null]>([
    ['the healthy replica with the smallest lag', [region('eu-central-1', 'EU', 300), region('eu-north-1', 'EU', 100)], {}, 'eu-north-1'],
    ['equal lag: the earlier region in service order', [region('eu-central-1', 'EU', 100), region('eu-north-1', 'EU', 100)], {}, 'eu-central-1'],
    ['GDPR: only the primary\'s jurisdiction, however fresh the others', [region('us-east-1', 'US', 1), region('eu-north-1', 'EU', 500)], {}, 'eu-north-1'],
    ['not GDPR: any jurisdiction', [region('us-east-1', 'US', 1), region('eu-north-1', 'EU', 500)], { residency: 'none' }, 'us-east-1'],
    ['an unhealthy replica is skipped', [region('eu-central-1', 'EU', 1, { health: 'unhealthy' }), region('eu-north-1', 'EU', 500)], {}, 'eu-north-1'],
    ["health 'unknown' counts as usable", [region('eu-central-1', 'EU', 1, { health: 'unknown' }), region('eu-north-1', 'EU', 500)], {}, 'eu-central-1'],
    ['a drained replica is skipped', [region('eu-central-1', 'EU', 1, { drained: true }), region('eu-north-1', 'EU', 500)], {}, 'eu-north-1'],
    ['a replica without a report is skipped', [region('eu-central-1', 'EU', null), region('eu-north-1', 'EU', 500)], {}, 'eu-north-1'],
    ['a replica with an old report is skipped', [region('eu-central-1', 'EU', 1, { reportedAtMs: NOW - 61_000 }), region('eu-north-1', 'EU', 500)], {}, 'eu-north-1'],
    ['beyond maxStalenessMs: skipped', [region('eu-central-1', 'EU', 1001), region('eu-north-1', 'EU', 1000)], {}, 'eu-north-1'],
    ['every replica beyond maxStalenessMs: none', [region('eu-central-1', 'EU', 5000), region('eu-north-1', 'EU', 2000)], {}, null],
    ['no bound: the freshest, however far behind', [region('eu-central-1', 'EU', 5000), region('eu-north-1', 'EU', 2000)], { maxStalenessMs: null }, 'eu-north-1'],
    ['GDPR and only replicas abroad: none', [region('us-east-1', 'US', 1)], {}, null],
    ['no replica at all: none', [], {}, null],
  ])('%s', (_name, regions, over, expected) => {
    const choice = choosePromotion(input(regions, over));
    expect(choice.region).toBe(expected);
    if (choice.region === null) expect(choice.detail).toMatch(/primary eu-west-1 has no replica|no replica of primary eu-west-1 can be promoted/);
    else expect(choice.lagMs).toBe(regions.find((r) => r.region === expected)?.lagMs);
  });

  it.each<[string, string, PromotionRegion[], PromotionRefusal | null, boolean]>([
    ['a fresh replica', 'eu-north-1', [region('eu-north-1', 'EU', 100)], null, true],
    ['not a region of the service', 'ap-south-1', [], 'not-a-service-region', false],
    ['the primary itself', 'eu-west-1', [], 'already-primary', false],
    ['drained', 'eu-north-1', [region('eu-north-1', 'EU', 100, { drained: true })], 'drained', false],
    ['unhealthy', 'eu-north-1', [region('eu-north-1', 'EU', 100, { health: 'unhealthy' })], 'unhealthy', true],
    ['another jurisdiction (GDPR)', 'us-east-1', [region('us-east-1', 'US', 100)], 'jurisdiction', true],
    ['no lag report', 'eu-north-1', [region('eu-north-1', 'EU', null)], 'no-lag-report', true],
    ['an old lag report', 'eu-north-1', [region('eu-north-1', 'EU', 100, { reportedAtMs: NOW - 90_000 })], 'report-too-old', true],
    ['lagging beyond maxStalenessMs', 'eu-north-1', [region('eu-north-1', 'EU', 5000)], 'lag-exceeds-bound', true],
  ])('manual target: %s', (_name, target, regions, refusal, forceable) => {
    const verdict = assessPromotionTarget(input(regions), target);
    expect(verdict.refusal).toBe(refusal);
    if (refusal !== null) expect(isForceable(refusal)).toBe(forceable);
    expect(verdict.detail).toContain(target);
  });

  it.each<[string, Parameters<typeof promotionDue>[0], boolean]>([
    ['automatic, unhealthy for the delay', { promotion: 'automatic', primaryHealth: 'unhealthy', unhealthySinceMs: NOW - 2000, promotionDelaySeconds: 2, now: NOW }, true],
    ['automatic, unhealthy for less than the delay', { promotion: 'automatic', primaryHealth: 'unhealthy', unhealthySinceMs: NOW - 1999, promotionDelaySeconds: 2, now: NOW }, false],
    ['automatic, delay 0', { promotion: 'automatic', primaryHealth: 'unhealthy', unhealthySinceMs: NOW, promotionDelaySeconds: 0, now: NOW }, true],
    ['automatic, healthy', { promotion: 'automatic', primaryHealth: 'healthy', unhealthySinceMs: NOW - 99_000, promotionDelaySeconds: 2, now: NOW }, false],
    ["automatic, 'unknown' is not a failure", { promotion: 'automatic', primaryHealth: 'unknown', unhealthySinceMs: NOW - 99_000, promotionDelaySeconds: 2, now: NOW }, false],
    ['automatic, since unknown', { promotion: 'automatic', primaryHealth: 'unhealthy', unhealthySinceMs: null, promotionDelaySeconds: 2, now: NOW }, false],
    ['manual: never', { promotion: 'manual', primaryHealth: 'unhealthy', unhealthySinceMs: NOW - 99_000, promotionDelaySeconds: 2, now: NOW }, false],
  ])('due: %s', (_name, due, expected) => {
    expect(promotionDue(due)).toBe(expected);
  });
});

describe('replication in buildSnapshot', () => {
  const builtAt = new Date(NOW);
  const regions = [REGIONS.euWest1, REGIONS.euCentral1, REGIONS.usEast1];
  const svc = (replication: ReplicationInput | null, over: Partial<ServiceInput> = {}): ServiceInput => ({
    fqdn: 'app.example.com',
    policy: 'proximity',
    regions: ['eu-west-1', 'eu-central-1', 'us-east-1'],
    replication,
    ...over,
  });
  const problemsOf = (services: ServiceInput[]): readonly string[] => {
    try {
      buildSnapshot({ zones: [ZONE], regions, services }, 1, builtAt);
    } catch (err) {
      if (err instanceof SnapshotValidationError) return err.problems;
      throw err;
    }
    return [];
  };

  it('fills defaults, gives every region its role and judges each report as of the build time', () => {
    const snapshot = buildSnapshot(
      {
        zones: [ZONE],
        regions,
        services: [
          svc({
            mode: 'active-passive',
            primary: 'EU-WEST-1',
            maxStalenessMs: 500,
            writeFqdn: 'Write.App.Example.com.',
            members: [
              { region: 'eu-central-1', lagMs: 200, reportedAt: '2024-12-31T23:59:59Z', maxReportAgeMs: 30_000 },
              { region: 'us-east-1', lagMs: 900, reportedAt: '2024-12-31T23:59:59Z' },
              { region: 'ap-south-9', lagMs: 1, reportedAt: '2024-12-31T23:59:59Z' },
            ],
          }),
        ],
      },
      1,
      builtAt,
    );
    const r = snapshot.services.get('app.example.com')!.replication!;
    expect(r).toEqual({
      mode: 'active-passive',
      primary: 'eu-west-1',
      maxStalenessMs: 500,
      promotion: 'manual',
      promotionDelaySeconds: 30,
      conflictResolution: null,
      writeFqdn: 'write.app.example.com',
      members: [
        { region: 'eu-west-1', role: 'primary', lagMs: null, reportedAt: null, maxReportAgeMs: 60_000, stale: null },
        { region: 'eu-central-1', role: 'replica', lagMs: 200, reportedAt: '2024-12-31T23:59:59.000Z', maxReportAgeMs: 30_000, stale: null },
        { region: 'us-east-1', role: 'replica', lagMs: 900, reportedAt: '2024-12-31T23:59:59.000Z', maxReportAgeMs: 60_000, stale: 'lag-exceeds-bound' },
      ],
    });
    expect(Object.isFrozen(r) && Object.isFrozen(r.members) && Object.isFrozen(r.members[0])).toBe(true);
    expect(snapshot.services.get('write.app.example.com')).toMatchObject({ fqdn: 'write.app.example.com', writeOf: 'app.example.com', replication: r });
    // The same reports 45 s later: the 30 s heartbeat of eu-central-1 has passed, the default 60 s of us-east-1 not.
    const later = buildSnapshot({ zones: [ZONE], regions, services: [svc({ mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: 500, members: r.members })] }, 2, new Date(NOW + 45_000));
    expect(later.services.get('app.example.com')!.replication!.members.map((m) => m.stale)).toEqual([null, 'report-too-old', 'lag-exceeds-bound']);
  });

  it('leaves services without replication (or mode none) as they were', () => {
    for (const replication of [null, undefined, { mode: 'none' } as const]) {
      const snapshot = snapshotOf([service({ policy: 'failover', regions: ['eu-west-1'], replication })]);
      expect(snapshot.services.get('app.example.com')).not.toHaveProperty('replication');
      expect([...snapshot.services.keys()]).toEqual(['app.example.com']);
    }
  });

  it('accepts its own values back as input (write names are derived again, not duplicated)', () => {
    const first = snapshotOf([service({ policy: 'failover', regions: ['eu-west-1', 'eu-central-1'], replication: { mode: 'active-active', conflictResolution: 'crdt', writeFqdn: 'w.app.example.com' } })]);
    const again = buildSnapshot({ zones: [...first.zones.values()], regions: [...first.regions.values()], services: [...first.services.values()] }, 2, builtAt);
    expect([...again.services.keys()]).toEqual(['app.example.com', 'w.app.example.com']);
    expect(again.services.get('w.app.example.com')).toEqual(first.services.get('w.app.example.com'));
  });

  it.each<[string, ServiceInput[], RegExp]>([
    ['active-passive without a primary', [svc({ mode: 'active-passive' })], /replication\.primary is required for active-passive/],
    ['a primary outside the service', [svc({ mode: 'active-passive', primary: 'ap-northeast-1' })], /primary ap-northeast-1 is not a region of the service/],
    ['active-active without a conflict resolution', [svc({ mode: 'active-active' })], /conflictResolution null must be one of/],
    ['active-active with a primary', [svc({ mode: 'active-active', conflictResolution: 'crdt', primary: 'eu-west-1' })], /primary applies to active-passive only/],
    ['an unknown mode', [svc({ mode: 'chain' as never })], /replication\.mode chain must be one of/],
    ['a negative staleness bound', [svc({ mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: -1 })], /maxStalenessMs -1/],
    ['a write name outside the zone', [svc({ mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'write.example.org' })], /outside the service's zone example\.com/],
    ['a write name that is a service', [svc({ mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'cdn.example.com' }), svc(null, { fqdn: 'cdn.example.com' })], /write name cdn\.example\.com is already the name of a service/],
    ['a negative reported lag', [svc({ mode: 'active-passive', primary: 'eu-west-1', members: [{ region: 'eu-central-1', lagMs: -5, reportedAt: '2024-12-31T23:59:59Z' }] })], /lag -5 of region eu-central-1/],
  ])('refuses %s', (_name, services, problem) => {
    expect(problemsOf(services).join('\n')).toMatch(problem);
  });

  it('computes the per-plan view decide() reads once', () => {
    const snapshot = snapshotOf([
      service({ policy: 'failover', regions: ['eu-west-1', 'eu-central-1'], replication: { mode: 'active-passive', primary: 'eu-central-1', maxStalenessMs: 10 } }),
    ]);
    const plan = planFor(snapshot, snapshot.services.get('app.example.com') as ServiceSnap);
    const view = replicationView(plan)!;
    expect(view).toEqual({ activePassive: true, primaryIndex: 1, roles: ['replica', 'primary'], lagMs: [null, null], stale: [true, false], staleCount: 1 });
    expect(replicationView(plan)).toBe(view);
    const plain = snapshotOf([service({ policy: 'failover', regions: ['eu-west-1'] })]);
    expect(replicationView(planFor(plain, plain.services.get('app.example.com') as ServiceSnap))).toBeNull();
  });
});
