import { RegionEntity } from '../src/registry/region.entity';
import { initialHealthState, type HealthTransition, type RegionHealthState } from '../src/health/health-state';
import { HealthRepository } from '../src/health/health.repository';
import { AuditRepository } from '../src/audit/audit.repository';
import { AuditService } from '../src/audit/audit.service';
import { NotificationOutbox } from '../src/notifications/notification-outbox';
import { NotificationsRepository } from '../src/notifications/notifications.repository';
import { openMigratedDatabase, type MigratedDatabase } from './support/migrated-database';

/** The health module's queries against a real database (DATABASE_URL's PostgreSQL, else embedded PGlite). */
describe('HealthRepository', () => {
  let db: MigratedDatabase;
  let repo: HealthRepository;
  const T0 = Date.parse('2025-01-01T00:00:00Z');

  const region = (name: string): Partial<RegionEntity> => ({
    name, countryCode: 'IE', latitude: 53, longitude: -6, ipv4: ['192.0.2.1'], ipv6: [], baseUrl: null, weight: 100, drained: false,
    capacity: null, healthCheck: null, heartbeatTimeoutSeconds: null, webhookSecret: null, anycast: null,
  });
  const state = (status: RegionHealthState['status'], since = T0): RegionHealthState => ({ ...initialHealthState(T0), status, since });
  const transition = (from: RegionHealthState['status'], to: RegionHealthState['status'], at = T0): HealthTransition => ({
    from, to, at, source: 'probe', reason: `${from} -> ${to}`, instance: 'i-1',
  });

  beforeAll(async () => {
    db = await openMigratedDatabase();
    repo = new HealthRepository(db.ds, db.status, new AuditService(new AuditRepository(db.ds), new NotificationOutbox(new NotificationsRepository(db.ds))));
    await db.ds.getRepository(RegionEntity).save([region('eu-west-1'), region('us-east-1')]);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('is connected and reads the regions', async () => {
    expect(repo.connected).toBe(true);
    expect((await repo.regions()).map((r) => r.name).sort()).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('castVote stores this vote and counts only the other instances\' fresh votes', async () => {
    const vote = (instance: string, status: 'healthy' | 'unhealthy') => repo.castVote({ region: 'eu-west-1', instance, status, reason: null, freshForMs: 60_000 });
    expect(await vote('i-1', 'unhealthy')).toEqual({ healthy: 0, unhealthy: 0 });
    expect(await vote('i-2', 'healthy')).toEqual({ healthy: 0, unhealthy: 1 });
    expect(await vote('i-3', 'unhealthy')).toEqual({ healthy: 1, unhealthy: 1 });
    // i-1 changes its mind: its own vote is replaced, not added.
    expect(await vote('i-1', 'healthy')).toEqual({ healthy: 1, unhealthy: 1 });
    expect((await repo.votesOf('eu-west-1')).map((v) => [v.instance_id, v.status])).toEqual([['i-1', 'healthy'], ['i-2', 'healthy'], ['i-3', 'unhealthy']]);
    // Votes older than the window do not count.
    await db.ds.query(`UPDATE health_votes SET observed_at = now() - interval '10 seconds' WHERE instance_id = 'i-3'`);
    expect(await repo.castVote({ region: 'eu-west-1', instance: 'i-1', status: 'healthy', reason: null, freshForMs: 5000 })).toEqual({ healthy: 1, unhealthy: 0 });
  });

  it('castVote stores nothing for a region that does not exist', async () => {
    expect(await repo.castVote({ region: 'gone-1', instance: 'i-1', status: 'unhealthy', reason: 'x', freshForMs: 60_000 })).toEqual({ healthy: 0, unhealthy: 0 });
    expect(await repo.votesOf('gone-1')).toEqual([]);
  });

  it('saveVerdict writes the first verdict, then changes it from the status the caller saw', async () => {
    const unknown = state('unknown');
    expect(await repo.saveVerdict('us-east-1', unknown, state('healthy'), transition('unknown', 'healthy'), 'i-1')).toBe(true);
    expect(await repo.saveVerdict('us-east-1', state('healthy'), state('unhealthy', T0 + 1), transition('healthy', 'unhealthy', T0 + 1), 'i-2')).toBe(true);
    // Without a transition (counters only) the write is unconditional.
    const counted = { ...state('unhealthy', T0 + 1), consecutiveFail: 7 };
    expect(await repo.saveVerdict('us-east-1', state('healthy'), counted, null, 'i-1')).toBe(true);
    expect(await repo.verdicts()).toEqual([{ region: 'us-east-1', state: counted }]);
    const events = await repo.transitions({ region: 'us-east-1', beforeId: null, limit: 10 });
    expect(events.map((e) => [e.from_status, e.to_status, e.instance])).toEqual([['healthy', 'unhealthy', 'i-1'], ['unknown', 'healthy', 'i-1']]);
  });

  it('transitions pages newest first, by region and cursor', async () => {
    for (const [from, to] of [['unknown', 'healthy'], ['healthy', 'unhealthy'], ['unhealthy', 'healthy']] as const) {
      await repo.saveVerdict('eu-west-1', state(from), state(to), transition(from, to), 'i-1');
    }
    const all = await repo.transitions({ beforeId: null, limit: 100 });
    expect(all.map((e) => Number(e.id))).toEqual([...all.map((e) => Number(e.id))].sort((a, b) => b - a));
    const mine = await repo.transitions({ region: 'eu-west-1', beforeId: null, limit: 2 });
    expect(mine.map((e) => e.to_status)).toEqual(['healthy', 'unhealthy']);
    const next = await repo.transitions({ region: 'eu-west-1', beforeId: Number(mine[1].id), limit: 2 });
    expect(next.map((e) => e.to_status)).toEqual(['healthy']);
  });

  it('remembers webhook ids: a second delivery is a replay, until the id is forgotten', async () => {
    expect(await repo.rememberWebhookId('msg_1', 'eu-west-1')).toBe(true);
    expect(await repo.rememberWebhookId('msg_1', 'us-east-1')).toBe(false);
    await repo.forgetWebhookIdsBefore(new Date(Date.now() - 60_000));
    expect(await repo.rememberWebhookId('msg_1', 'eu-west-1')).toBe(false);
    await repo.forgetWebhookIdsBefore(new Date(Date.now() + 60_000));
    expect(await repo.rememberWebhookId('msg_1', 'eu-west-1')).toBe(true);
  });

  it('saveVerdict: an instance that lost the race, or a region that is gone, records nothing', async () => {
    // eu-west-1 is healthy now (the paging test's last transition); i-2 still saw it unhealthy.
    const before = (await repo.transitions({ region: 'eu-west-1', beforeId: null, limit: 100 })).length;
    expect(await repo.saveVerdict('eu-west-1', state('unhealthy'), state('unknown', T0 + 5), transition('unhealthy', 'unknown', T0 + 5), 'i-2')).toBe(false);
    expect(await repo.saveVerdict('gone-2', state('unknown'), state('healthy'), transition('unknown', 'healthy'), 'i-1')).toBe(false);
    expect(await repo.transitions({ region: 'eu-west-1', beforeId: null, limit: 100 })).toHaveLength(before);
    expect((await repo.transitions({ beforeId: null, limit: 100 })).some((e) => e.region === 'gone-2')).toBe(false);
  });
});
