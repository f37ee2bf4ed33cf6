import type { HealthService } from '../health/health.service';
import { REGIONS, ZONE } from '../routing/fixtures';
import { buildSnapshot } from '../routing/snapshot';
import type { HealthStatus, RoutingSnapshot } from '../routing/types';
import type { SnapshotStore } from '../snapshot/snapshot.store';
import type { ReplicationLagStore, StoredLag } from './lag.store';
import { PromotionFacts } from './promotion-facts';
import { PromotionScheduler } from './promotion.scheduler';
import { PromotionService } from './promotion.service';
import type { PromotionRequest } from './promotion.types';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function snapshot(promotion: 'automatic' | 'manual', residency: 'gdpr' | 'none' = 'gdpr'): RoutingSnapshot {
  return buildSnapshot(
    {
      zones: [ZONE],
      regions: [REGIONS.euWest1, REGIONS.euCentral1, REGIONS.euNorth1, REGIONS.usEast1],
      services: [
        {
          fqdn: 'app.example.com',
          policy: 'proximity',
          residency,
          regions: ['eu-west-1', 'eu-central-1', 'eu-north-1', 'us-east-1'],
          replication: { mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: 1000, promotion, promotionDelaySeconds: 2 },
        },
      ],
    },
    1,
    new Date(T0),
  );
}

/** The scheduler over fakes: health we set, lags we set, promotions recorded. */
function harness(snap: RoutingSnapshot, lags: Record<string, number>, primary: { status: HealthStatus; since: number }) {
  const promoted: PromotionRequest[] = [];
  let release: () => void = () => undefined;
  const lagStore = { lagOf: (_service: string, region: string): StoredLag | undefined => (region in lags ? { lagMs: lags[region], reportedAtMs: T0 - 1000 } : undefined) } as ReplicationLagStore;
  const health = {
    summary: (region: string) =>
      region === 'eu-west-1'
        ? { status: primary.status, since: new Date(primary.since).toISOString(), reason: 'database down' }
        : { status: 'healthy' as HealthStatus, since: new Date(T0 - 99_000).toISOString(), reason: null },
    statusOf: (region: string) => ({ status: region === 'eu-west-1' ? primary.status : ('healthy' as HealthStatus), reason: null }),
  } as unknown as HealthService;
  const promotions = Object.create(PromotionService.prototype) as PromotionService;
  promotions.promote = async (req: PromotionRequest) => {
    promoted.push(req);
    await new Promise<void>((r) => (release = r));
    return null;
  };
  const scheduler = new PromotionScheduler({ current: () => snap } as unknown as SnapshotStore, health, new PromotionFacts(lagStore, health), promotions);
  return { scheduler, promoted, release: () => release() };
}

describe('PromotionScheduler.tick', () => {
  it('promotes the freshest replica of the primary\'s jurisdiction once the delay has passed, one attempt at a time', async () => {
    const h = harness(snapshot('automatic'), { 'eu-central-1': 400, 'eu-north-1': 90, 'us-east-1': 1 }, { status: 'unhealthy', since: T0 });
    expect(h.scheduler.tick(T0 + 1999)).toHaveLength(0);
    const started = h.scheduler.tick(T0 + 2000);
    expect(started).toHaveLength(1);
    expect(h.promoted).toEqual([
      expect.objectContaining({ fqdn: 'app.example.com', from: 'eu-west-1', to: 'eu-north-1', trigger: 'automatic', forced: false, dataLossWindowMs: 90 }),
    ]);
    expect(h.promoted[0].reason).toMatch(/primary eu-west-1 unhealthy for 2 s .*database down.*eu-north-1 is the healthy replica with the smallest lag \(90 ms\) in jurisdiction EU/);
    expect(h.scheduler.tick(T0 + 2250)).toHaveLength(0); // still in flight
    h.release();
    await Promise.all(started);
    // Nothing was promoted (the fake answers null, as when another instance won): wait before trying again.
    expect(h.scheduler.tick(T0 + 2100)).toHaveLength(0);
    expect(h.scheduler.tick(T0 + 5000)).toHaveLength(1);
  });

  it('does nothing for a healthy primary, a manual service, or when no replica qualifies', () => {
    expect(harness(snapshot('automatic'), { 'eu-north-1': 90 }, { status: 'healthy', since: T0 }).scheduler.tick(T0 + 60_000)).toHaveLength(0);
    expect(harness(snapshot('manual'), { 'eu-north-1': 90 }, { status: 'unhealthy', since: T0 }).scheduler.tick(T0 + 60_000)).toHaveLength(0);
    const lagging = harness(snapshot('automatic'), { 'eu-central-1': 5000, 'us-east-1': 1 }, { status: 'unhealthy', since: T0 });
    expect(lagging.scheduler.tick(T0 + 60_000)).toHaveLength(0);
    expect(lagging.promoted).toEqual([]);
  });

  it('without GDPR residency the freshest replica anywhere', () => {
    const h = harness(snapshot('automatic', 'none'), { 'eu-north-1': 90, 'us-east-1': 1 }, { status: 'unhealthy', since: T0 });
    h.scheduler.tick(T0 + 5000);
    expect(h.promoted.map((p) => p.to)).toEqual(['us-east-1']);
  });
});
