import type { Response } from 'supertest';
import { EventBus, HEALTH_CHANGED } from '../src/common/events';
import { AdminReadCache, READ_CACHE_MAX_AGE_MS } from '../src/read-cache';
import { waitFor } from './support/dns-client';
import { createTestDatabase, loadFixture, startTestApp, TestApp, TestDatabase, TEST_TOKEN } from './support/test-app';

// The admin API's registry reads answered in front of Express (src/read-cache.ts): the same
// answer as Nest's, never one from before a change, and never to a token Nest would refuse.
describe('admin read cache', () => {
  let db: TestDatabase;
  let app: TestApp;
  let cache: AdminReadCache;
  const get = (url: string, token = TEST_TOKEN) => app.http.get(url).set('Authorization', `Bearer ${token}`);
  /** The headers two answers must share (Date and connection details aside). */
  const sameHeaders = (res: Response) => {
    const h = { ...res.headers };
    for (const k of ['date', 'connection', 'keep-alive']) delete h[k];
    return h;
  };
  /** GETs `url` and says whether the lean path answered it. */
  const viaCache = async (url: string, token = TEST_TOKEN) => {
    const before = cache.answered;
    const res = await get(url, token);
    return { res, cached: cache.answered === before + 1 };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CHANGE_POLL_INTERVAL_MS: '100' });
    cache = app.running.app.get(AdminReadCache);
    await loadFixture(app);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it.each(['/v1/services/app.example.com', '/v1/services', '/v1/services?limit=1', '/v1/regions', '/v1/regions/eu-west-1', '/v1/zones', '/v1/zones/example.com', '/v1/zones/example.com/records'])(
    'GET %s: the repeat is answered in front of Express, byte for byte as Nest answered it',
    async (url) => {
      const first = await viaCache(url);
      expect([first.res.status, first.cached]).toEqual([200, false]);
      const second = await viaCache(url);
      expect([second.res.status, second.cached]).toEqual([200, true]);
      expect(second.res.text).toBe(first.res.text);
      expect(sameHeaders(second.res)).toEqual(sameHeaders(first.res));
      expect(second.res.headers.etag).toMatch(/^W\/"/);
    },
  );

  it('a write through the API: the next read is Nest\'s and shows it', async () => {
    const url = '/v1/services/app.example.com';
    await get(url);
    expect((await viaCache(url)).cached).toBe(true);
    expect((await app.api('patch', url, { ttl: 45 })).status).toBe(200);
    const after = await viaCache(url);
    expect([after.cached, after.res.body.ttl]).toEqual([false, 45]);
    expect((await viaCache(url)).res.body.ttl).toBe(45);
  });

  it("another instance's change (a commit straight to the database) ends the cached answers", async () => {
    const url = '/v1/services/app.example.com';
    await get(url);
    expect((await viaCache(url)).cached).toBe(true);
    await app.ds.query(`UPDATE services SET ttl = 77 WHERE fqdn = 'app.example.com'`);
    await waitFor('the change feed to bring ttl 77', async () => (await get(url)).body.ttl === 77, 3000, 20);
    expect((await get(url)).body.ttl).toBe(77);
  });

  it('a change event (health) ends them; without any, they last READ_CACHE_MAX_AGE_MS', async () => {
    const url = '/v1/regions/eu-west-1';
    await get(url);
    expect((await viaCache(url)).cached).toBe(true);
    app.running.app.get(EventBus).emit(HEALTH_CHANGED, { kind: 'reload' });
    expect((await viaCache(url)).cached).toBe(false);
    expect((await viaCache(url)).cached).toBe(true);
    await new Promise((r) => setTimeout(r, READ_CACHE_MAX_AGE_MS + 50));
    expect((await viaCache(url)).cached).toBe(false);
  });

  it('tokens: scope checked on every answer; no token, a bad or a revoked one go to Nest (401/403)', async () => {
    const url = '/v1/zones/example.com';
    await get(url);
    const reader = (await app.api('post', '/v1/tokens', { name: 'cache-reader', scopes: ['read'] })).body as { id: string; token: string };
    const reporter = (await app.api('post', '/v1/tokens', { name: 'cache-reporter', scopes: ['health:report'] })).body as { id: string; token: string };
    // The first use of a token is checked by Nest (scrypt), then it is known for a moment.
    expect((await viaCache(url, reader.token)).res.status).toBe(200);
    await get(url);
    expect(await viaCache(url, reader.token)).toMatchObject({ cached: true, res: { status: 200 } });
    expect(await viaCache(url, reporter.token)).toMatchObject({ cached: false, res: { status: 403 } });
    expect(await viaCache(url, reporter.token)).toMatchObject({ cached: false, res: { status: 403 } });
    expect(await viaCache(url, 'nope-0123456789')).toMatchObject({ cached: false, res: { status: 401 } });
    const before = cache.answered;
    expect((await app.http.get(url)).status).toBe(401);
    expect(cache.answered).toBe(before);
    expect((await app.api('delete', `/v1/tokens/${reader.id}`)).status).toBe(204);
    await get(url);
    expect(await viaCache(url, reader.token)).toMatchObject({ cached: false, res: { status: 401 } });
  });

  it('conditional and no-cache requests go to Nest (304 for a matching ETag)', async () => {
    const url = '/v1/zones';
    const first = await get(url);
    const before = cache.answered;
    expect((await get(url).set('If-None-Match', first.headers.etag)).status).toBe(304);
    expect((await get(url).set('Cache-Control', 'no-cache')).status).toBe(200);
    expect(cache.answered).toBe(before);
  });
});
