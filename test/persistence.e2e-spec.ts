import { createTestDatabase, startTestApp, TestDatabase, FIXTURE } from './support/test-app';

describe('persistence', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('loads the demo configuration into an empty database once, and keeps acknowledged writes across a restart', async () => {
    const first = await startTestApp(db, { CONFIG_FILE: '' });
    try {
      const regions = await first.api('get', '/v1/regions');
      expect(regions.body.items.map((r: { name: string }) => r.name)).toEqual(
        ['ap-northeast-1', 'eu-central-1', 'eu-west-1', 'sa-east-1', 'us-east-1', 'us-west-2'],
      );
      const services = await first.api('get', '/v1/services');
      expect(services.body.items.map((s: { fqdn: string; residency: string }) => [s.fqdn, s.residency])).toEqual([
        ['app.example.com', 'gdpr'],
        ['cdn.example.com', 'none'],
      ]);
      expect((await first.api('post', '/v1/regions', { ...FIXTURE.regions[0], name: 'eu-north-1', countryCode: 'SE' })).status).toBe(201);
      expect((await first.api('delete', '/v1/services/cdn.example.com')).status).toBe(204);
    } finally {
      await first.stop();
    }

    const second = await startTestApp(db, { CONFIG_FILE: '' });
    try {
      expect((await second.api('get', '/v1/regions/eu-north-1')).body.countryCode).toBe('SE');
      // Not seeded again: the deleted service stays deleted.
      expect((await second.api('get', '/v1/services/cdn.example.com')).status).toBe(404);
      expect((await second.api('get', '/v1/services')).body.items).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});

// Two instances racing on one empty database needs a real PostgreSQL server (PGlite is a single
// backend, so its advisory locks cannot exclude anything): CI runs this with DATABASE_URL set.
if (process.env.DATABASE_URL) describe('two instances on one empty PostgreSQL database', () => {
  it('both come up: migrations run once under the advisory lock and the demo is seeded once', async () => {
    const db = await createTestDatabase();
    try {
      const [a, b] = await Promise.all([startTestApp(db, { CONFIG_FILE: '' }), startTestApp(db, { CONFIG_FILE: '' })]);
      try {
        for (const app of [a, b]) {
          expect((await app.http.get('/readyz')).status).toBe(200);
          expect((await app.api('get', '/v1/regions')).body.items).toHaveLength(6);
        }
        const migrations = await a.ds.query('SELECT name FROM migrations');
        expect(migrations.length).toBeGreaterThan(0);
        expect(new Set(migrations.map((m: { name: string }) => m.name)).size).toBe(migrations.length);
      } finally {
        await a.stop();
        await b.stop();
      }
    } finally {
      await db.drop();
    }
  });
});
