import { ChangeFeedService } from '../src/cluster/change-feed.service';
import { SnapshotStore } from '../src/snapshot/snapshot.store';
import { createTestDatabase, loadFixture, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { addresses, query, waitFor } from './support/dns-client';

// The change feed tells this instance's own committed changes (applied at once, incrementally)
// from anyone else's (a full reload): on both databases, with a fast poll.
describe('change feed: own changes are not reloaded, foreign ones are', () => {
  let db: TestDatabase;
  let app: TestApp;
  let feed: ChangeFeedService;
  const version = async () => Number((await app.ds.query('SELECT version FROM registry_version WHERE id = 1'))[0].version);

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CHANGE_POLL_INTERVAL_MS: '100' });
    feed = app.running.app.get(ChangeFeedService);
    await loadFixture(app);
    await waitFor('the feed to catch up', async () => feed.seenVersion === (await version()), 3000, 20);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('one version per committed transaction, however many statements it ran', async () => {
    const before = await version();
    // A service create writes the service row and bumps the zone serial: two triggered statements.
    expect((await app.api('post', '/v1/services', { fqdn: 'two.example.com', policy: 'proximity', regions: ['us-east-1'], ttl: 30 })).status).toBe(201);
    expect(await version()).toBe(before + 1);
  });

  it('skips a full reload for a change made through this instance', async () => {
    await waitFor('the feed to catch up', async () => feed.seenVersion === (await version()), 3000, 20);
    const skipped = feed.skipped;
    const res = await app.api('patch', '/v1/services/app.example.com', { regions: ['ap-northeast-1'] });
    expect(res.status).toBe(200);
    const produced = await version();
    await waitFor('the feed to pass the own version', async () => feed.seenVersion === produced, 3000, 20);
    expect(feed.skipped).toBe(skipped + 1);
    // And the change is served (applied by the write's own event, not by a reload).
    expect(addresses(await query(app.dnsPort, 'app.example.com', 'A', { subnet: '133.242.0.0/24' }))).toEqual(['203.0.113.10']);
  });

  it('reloads for a change made elsewhere (a write outside this instance\'s transactions)', async () => {
    await waitFor('the feed to catch up', async () => feed.seenVersion === (await version()), 3000, 20);
    const skipped = feed.skipped;
    // Another writer: a statement in its own implicit transaction, which no TypeORM transaction saw.
    await app.ds.query(`UPDATE services SET regions = '["eu-west-1"]'::jsonb WHERE fqdn = 'app.example.com'`);
    const produced = await version();
    await waitFor('instance to reload the registry', async () => addresses(await query(app.dnsPort, 'app.example.com', 'A', { subnet: '133.242.0.0/24' }))[0] === '198.51.100.10', 3000, 20);
    expect(feed.seenVersion).toBe(produced);
    expect(feed.skipped).toBe(skipped);
  });

  it('reloads when a foreign change lies between two own ones', async () => {
    await waitFor('the feed to catch up', async () => feed.seenVersion === (await version()), 3000, 20);
    const skipped = feed.skipped;
    // Stop the feed from looking while the three changes land, so it sees them together.
    const seen = feed.seenVersion;
    (feed as unknown as { polling: boolean }).polling = true;
    try {
      expect((await app.api('patch', '/v1/regions/us-east-1', { drained: true })).status).toBe(200);
      await app.ds.query(`UPDATE services SET regions = '["us-east-1"]'::jsonb WHERE fqdn = 'app.example.com'`);
      expect((await app.api('patch', '/v1/regions/us-east-1', { drained: false })).status).toBe(200);
      expect(await version()).toBe(seen + 3);
    } finally {
      (feed as unknown as { polling: boolean }).polling = false;
    }
    await waitFor('the feed to reload', async () => feed.seenVersion === seen + 3, 3000, 20);
    expect(feed.skipped).toBe(skipped);
    // The feed has asked for the reload; its database reads may still be under way. (Own region
    // changes re-read only the regions and zones, so the reload alone brings the foreign change.)
    await app.running.app.get(SnapshotStore).settled();
    expect(addresses(await query(app.dnsPort, 'app.example.com', 'A', { subnet: '133.242.0.0/24' }))).toEqual(['192.0.2.10']);
  });
});
