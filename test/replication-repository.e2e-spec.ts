import { RegionEntity } from '../src/registry/region.entity';
import { ServiceEntity } from '../src/registry/service.entity';
import { ZoneEntity } from '../src/registry/zone.entity';
import { ReplicationRepository } from '../src/replication/replication.repository';
import { AuditRepository } from '../src/audit/audit.repository';
import { AuditService } from '../src/audit/audit.service';
import { NotificationOutbox } from '../src/notifications/notification-outbox';
import { NotificationsRepository } from '../src/notifications/notifications.repository';
import type { PromotionRequest } from '../src/replication/promotion.types';
import { openMigratedDatabase, type MigratedDatabase } from './support/migrated-database';

/** The replication module's queries against a real database (DATABASE_URL's PostgreSQL, else embedded PGlite). */
describe('ReplicationRepository', () => {
  let db: MigratedDatabase;
  let repo: ReplicationRepository;
  const T0 = Date.parse('2025-01-01T00:00:00Z');

  const region = (name: string, countryCode: string): Partial<RegionEntity> => ({
    name, countryCode, latitude: 50, longitude: 8, ipv4: ['192.0.2.1'], ipv6: [], baseUrl: null, weight: 100, drained: false,
    capacity: null, healthCheck: null, heartbeatTimeoutSeconds: null, webhookSecret: null, anycast: null,
  });
  const change = (from: string, to: string): PromotionRequest => ({
    fqdn: 'app.example.com', from, to, trigger: 'manual', forced: false, dataLossWindowMs: 90, reason: `manual promotion of ${to}`,
  });
  const serial = async () => Number((await db.ds.query(`SELECT serial FROM zones WHERE name = 'example.com'`))[0].serial);

  beforeAll(async () => {
    db = await openMigratedDatabase();
    repo = new ReplicationRepository(db.ds, new AuditService(new AuditRepository(db.ds), new NotificationOutbox(new NotificationsRepository(db.ds))));
    await db.ds.getRepository(ZoneEntity).save({
      name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com', ttl: 3600, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 300, serial: 1,
    });
    await db.ds.getRepository(RegionEntity).save([region('eu-west-1', 'IE'), region('eu-central-1', 'DE'), region('us-east-1', 'US')]);
    await db.ds.getRepository(ServiceEntity).save({
      fqdn: 'app.example.com', zoneName: 'example.com', policy: 'proximity', regions: ['eu-west-1', 'eu-central-1', 'us-east-1'], geolocation: null, ttl: 30,
      residency: 'gdpr', unknownLocation: 'route', whenAllUnhealthy: 'fail-open', answerCount: 1,
      replication: {
        mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: 1000, promotion: 'manual', promotionDelaySeconds: 30, conflictResolution: null,
        writeFqdn: 'write.example.com', notifyUrl: 'https://ops.example.com/hook', notifySecret: 'notify-secret-0123456789abcdef',
      },
    });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('finds the service and its regions by name', async () => {
    expect((await repo.findService('app.example.com'))?.replication?.primary).toBe('eu-west-1');
    expect(await repo.findService('nope.example.com')).toBeNull();
    expect((await repo.regionsNamed(['eu-central-1', 'us-east-1', 'gone-1'])).map((r) => r.name).sort()).toEqual(['eu-central-1', 'us-east-1']);
  });

  it('saveLags keeps the newest report per service and region, and skips what does not exist', async () => {
    await repo.saveLags('eu-central-1', [{ service: 'app.example.com', lagMs: 250 }, { service: 'gone.example.com', lagMs: 1 }], new Date(T0 + 2000), 'i-1');
    await repo.saveLags('eu-central-1', [{ service: 'app.example.com', lagMs: 999 }], new Date(T0 + 1000), 'i-2');
    await repo.saveLags('gone-1', [{ service: 'app.example.com', lagMs: 1 }], new Date(T0), 'i-1');
    await repo.saveLags('eu-west-1', [{ service: 'app.example.com', lagMs: 0.5 }], new Date(T0), 'i-1');
    const rows = (await repo.lags()).map((r) => [r.service, r.region, Number(r.lag_ms), new Date(r.reported_at).getTime()]);
    expect(rows.sort()).toEqual([['app.example.com', 'eu-central-1', 250, T0 + 2000], ['app.example.com', 'eu-west-1', 0.5, T0]]);
  });

  it('promote changes the primary once, forgets the old primary\'s lag, bumps the serial and records the event', async () => {
    const before = await serial();
    const done = await repo.promote(change('eu-west-1', 'eu-central-1'), 'i-1');
    expect(done?.notice).toEqual({ zone_name: 'example.com', notify_url: 'https://ops.example.com/hook', notify_secret: 'notify-secret-0123456789abcdef', write_fqdn: 'write.example.com' });
    expect(done?.row).toMatchObject({ service: 'app.example.com', from_region: 'eu-west-1', to_region: 'eu-central-1', trigger: 'manual', forced: false, instance: 'i-1' });
    expect((await repo.findService('app.example.com'))?.replication?.primary).toBe('eu-central-1');
    expect((await repo.lags()).map((r) => r.region)).toEqual(['eu-central-1']);
    expect(await serial()).toBe(before + 1);
    // A second attempt from the old primary (another instance, a concurrent request) changes nothing.
    expect(await repo.promote(change('eu-west-1', 'us-east-1'), 'i-2')).toBeNull();
    expect((await repo.findService('app.example.com'))?.replication?.primary).toBe('eu-central-1');
    expect(await serial()).toBe(before + 1);
  });

  it('records the notification outcome, and lists promotions newest first', async () => {
    await repo.promote(change('eu-central-1', 'eu-west-1'), 'i-1');
    const [latest, first] = await repo.recentPromotions('app.example.com', 5);
    expect([latest.to_region, first.to_region]).toEqual(['eu-west-1', 'eu-central-1']);
    await repo.recordNotification(Number(first.id), 'failed (HTTP 500, attempt 1)', false);
    await repo.recordNotification(Number(latest.id), 'delivered (HTTP 204, attempt 1)', true);
    const [l, f] = await repo.recentPromotions('app.example.com', 5);
    expect([l.notify_status, l.notified_at !== null]).toEqual(['delivered (HTTP 204, attempt 1)', true]);
    expect([f.notify_status, f.notified_at]).toEqual(['failed (HTTP 500, attempt 1)', null]);
    expect(await repo.recentPromotions('app.example.com', 1)).toHaveLength(1);
  });
});
