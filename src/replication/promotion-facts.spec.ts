import type { HealthService } from '../health/health.service';
import type { RegionEntity } from '../registry/region.entity';
import { REGIONS, ZONE } from '../routing/fixtures';
import { lagReportMaxAgeMs } from '../routing/replication';
import { buildSnapshot, type RegionInput } from '../routing/snapshot';
import type { HealthStatus } from '../routing/types';
import type { ReplicationLagStore, StoredLag } from './lag.store';
import { PromotionFacts, replicaRegionOfRow } from './promotion-facts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const MEMBERS: readonly (RegionInput & { heartbeatTimeoutSeconds: number | null })[] = [
  { ...REGIONS.euWest1, health: 'unhealthy', heartbeatTimeoutSeconds: null },
  { ...REGIONS.euCentral1, drained: true, heartbeatTimeoutSeconds: 20 },
  { ...REGIONS.usEast1, heartbeatTimeoutSeconds: 300 },
];

/** The same three regions as the snapshot store would feed them, and as database rows. */
const snapshot = buildSnapshot(
  {
    zones: [ZONE],
    regions: MEMBERS,
    services: [
      {
        fqdn: 'app.example.com',
        policy: 'proximity',
        regions: MEMBERS.map((m) => m.name),
        replication: {
          mode: 'active-passive',
          primary: 'eu-west-1',
          maxStalenessMs: 1000,
          members: MEMBERS.map((m) => ({ region: m.name, maxReportAgeMs: lagReportMaxAgeMs(m.heartbeatTimeoutSeconds) })),
        },
      },
    ],
  },
  1,
  new Date(T0),
);
const rows = MEMBERS.map((m) => ({ name: m.name, countryCode: m.countryCode, drained: m.drained ?? false, heartbeatTimeoutSeconds: m.heartbeatTimeoutSeconds }) as RegionEntity);

function facts(verdicts: Record<string, HealthStatus>): PromotionFacts {
  const lags: Record<string, StoredLag> = { 'eu-central-1': { lagMs: 40, reportedAtMs: T0 - 500 } };
  const lag = { lagOf: (_service: string, region: string) => lags[region] } as ReplicationLagStore;
  const health = { statusOf: (region: string) => (region in verdicts ? { status: verdicts[region], reason: null } : undefined) } as HealthService;
  return new PromotionFacts(lag, health);
}

describe('PromotionFacts: one builder, whichever source the regions come from', () => {
  const service = snapshot.services.get('app.example.com')!;
  const target = { fqdn: 'app.example.com', primary: 'eu-west-1', residency: 'gdpr' as const, maxStalenessMs: 1000 };

  it('gives the same input from the snapshot and from the rows', () => {
    const f = facts({ 'eu-west-1': 'unhealthy', 'eu-central-1': 'healthy', 'us-east-1': 'healthy' });
    const fromRows = f.input(target, rows.map((r) => replicaRegionOfRow(r.name, r)), T0);
    expect(f.fromSnapshot(snapshot, service, T0)).toEqual(fromRows);
    expect(fromRows.regions).toEqual([
      { region: 'eu-west-1', jurisdiction: 'EU', health: 'unhealthy', drained: false, lagMs: null, reportedAtMs: null, maxReportAgeMs: 60_000 },
      { region: 'eu-central-1', jurisdiction: 'EU', health: 'healthy', drained: true, lagMs: 40, reportedAtMs: T0 - 500, maxReportAgeMs: 20_000 },
      { region: 'us-east-1', jurisdiction: 'US', health: 'healthy', drained: false, lagMs: null, reportedAtMs: null, maxReportAgeMs: 300_000 },
    ]);
  });

  it('without a health verdict: the health in the snapshot, or unknown for a row', () => {
    const f = facts({});
    expect(f.fromSnapshot(snapshot, service, T0)?.regions.map((r) => r.health)).toEqual(['unhealthy', 'unknown', 'unknown']);
    expect(f.input(target, rows.map((r) => replicaRegionOfRow(r.name, r)), T0).regions.map((r) => r.health)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(f.regions('app.example.com', [replicaRegionOfRow('gone-1', undefined)])).toEqual([
      { region: 'gone-1', jurisdiction: '', health: 'unknown', drained: false, lagMs: null, reportedAtMs: null, maxReportAgeMs: 60_000 },
    ]);
  });

  it('has no input for a service that is not active-passive', () => {
    const cdn = buildSnapshot({ zones: [ZONE], regions: MEMBERS, services: [{ fqdn: 'cdn.example.com', policy: 'proximity', regions: ['eu-west-1'] }] }, 1, new Date(T0));
    expect(facts({}).fromSnapshot(cdn, cdn.services.get('cdn.example.com')!, T0)).toBeNull();
  });
});
