import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { createTestDatabase, startTestApp, TestApp, TestDatabase, FIXTURE } from './support/test-app';
import { addresses, query } from './support/dns-client';
import { TcpProxy } from './support/tcp-proxy';

const OUTAGE_MS = Number(process.env.STATIC_STABILITY_SECONDS ?? 5) * 1000;

/**
 * Static stability: PostgreSQL goes away (a proxy in front of it is cut) while DNS and redirect
 * traffic runs. Every query is still answered from the last snapshot, writes answer 503 quickly,
 * the service reconnects by itself, and nothing acknowledged is lost. A new instance that starts
 * during the outage serves DNS from the snapshot kept in DATA_DIR.
 */
describe('static stability: the database goes away', () => {
  let backend: { url: string; stop(): Promise<void> };
  let proxy: TcpProxy;
  let db: TestDatabase;
  let app: TestApp;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-static-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    if (db.env.DATABASE_URL) {
      backend = { url: db.env.DATABASE_URL, stop: async () => undefined };
      const u = new URL(backend.url);
      proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    } else {
      // The embedded database listens on a Unix socket only: the proxy forwards TCP to it.
      const embedded = new EmbeddedPostgres(db.dataDir);
      await embedded.start();
      backend = { url: 'postgresql://postgres@127.0.0.1/postgres', stop: () => embedded.stop() };
      proxy = new TcpProxy('', 0, embedded.socket);
    }
    await proxy.start();
    const target = new URL(backend.url);
    target.host = `127.0.0.1:${proxy.port}`;
    app = await startTestApp({ ...db, env: { DATABASE_URL: target.toString(), DATA_DIR: dataDir } }, { CONFIG_FILE: '', TRUSTED_PROXIES: '127.0.0.1/32' });
  });
  afterAll(async () => {
    await app?.stop();
    await proxy?.cut();
    await backend?.stop();
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps answering DNS and redirects, refuses writes with 503 in time, reconnects, loses nothing', async () => {
    const created = await app.api('post', '/v1/regions', { ...FIXTURE.regions[0], name: 'eu-north-1', countryCode: 'SE' });
    expect(created.status).toBe(201);
    await new Promise((r) => setTimeout(r, 200)); // the snapshot file is written after the rebuild

    await proxy.cut();
    const until = Date.now() + OUTAGE_MS;
    let answered = 0;
    let asked = 0;
    let writeStatus = 0;
    let writeMs = 0;
    const write = (async () => {
      const t0 = Date.now();
      const res = await app.api('post', '/v1/regions', { ...FIXTURE.regions[0], name: 'eu-south-1', countryCode: 'IT' });
      writeMs = Date.now() - t0;
      writeStatus = res.status;
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.headers['retry-after']).toBe('5');
    })();
    while (Date.now() < until) {
      asked++;
      const dns = await query(app.dnsPort, 'app.example.com', 'A', { subnet: '133.242.0.0/24', timeoutMs: 1000 });
      if (addresses(dns)[0] === '203.0.113.10') answered++;
      const redirect = await app.http.get('/r/cdn.example.com/x').set('X-Forwarded-For', '81.2.69.10');
      expect(redirect.status).toBe(307);
    }
    await write;
    expect(asked).toBeGreaterThan(50);
    expect(answered).toBe(asked);
    expect(writeStatus).toBe(503);
    expect(writeMs).toBeLessThan(5000);
    const ready = await app.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.degraded).toBe(true);

    await proxy.restore();
    const t0 = Date.now();
    let status = 0;
    while (Date.now() - t0 < 5000) {
      status = (await app.api('post', '/v1/regions', { ...FIXTURE.regions[0], name: 'eu-south-1', countryCode: 'IT' })).status;
      if (status === 201) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(201);
    expect((await app.api('get', '/v1/regions/eu-north-1')).body.countryCode).toBe('SE');
    expect((await app.http.get('/readyz')).body.degraded).toBe(false);
  });

  it('an instance that starts while the database is down serves DNS from the snapshot on disk, then reconnects', async () => {
    await app.stop();
    await proxy.cut();
    const url = new URL(backend.url);
    url.host = `127.0.0.1:${proxy.port}`;
    app = await startTestApp({ ...db, env: { DATABASE_URL: url.toString(), DATA_DIR: dataDir } }, { CONFIG_FILE: '' });
    const ready = await app.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, degraded: true, snapshotSource: 'disk' });
    expect(addresses(await query(app.dnsPort, 'app.example.com', 'A', { subnet: '133.242.0.0/24' }))).toEqual(['203.0.113.10']);
    expect((await app.api('get', '/v1/regions')).status).toBe(503);

    await proxy.restore();
    const t0 = Date.now();
    let body: { snapshotSource?: string; degraded?: boolean } = {};
    while (Date.now() - t0 < 10000) {
      body = (await app.http.get('/readyz')).body;
      if (body.snapshotSource === 'database' && body.degraded === false) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(body).toMatchObject({ snapshotSource: 'database', degraded: false });
    expect((await app.api('get', '/v1/regions/eu-south-1')).status).toBe(200);
  });
});
