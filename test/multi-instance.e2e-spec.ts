import * as http from 'node:http';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { createTestDatabase, startTestApp, TestDatabase, TEST_TOKEN } from './support/test-app';
import { addresses, query, waitFor } from './support/dns-client';
import { ProcessApp, startProcess } from './support/process-app';

// Several instances over one PostgreSQL, as real processes. PGlite is a single backend in one
// process, so this needs a PostgreSQL server: CI runs it with DATABASE_URL set.
if (process.env.DATABASE_URL) {
  describe('many instances on one PostgreSQL', () => {
    let db: TestDatabase;
    let a: ProcessApp;
    let b: ProcessApp;
    let failFor = new Set<string>();
    const checker = http.createServer((req, res) => {
      const who = String(req.headers['x-georoute-instance'] ?? '');
      res.writeHead(failFor.has(who) || failFor.has('*') ? 503 : 200).end();
    });
    const dirs: string[] = [];
    const api = (app: ProcessApp) => request(`http://127.0.0.1:${app.httpPort}`);
    const auth = { Authorization: `Bearer ${TEST_TOKEN}` };

    beforeAll(async () => {
      await new Promise<void>((r) => checker.listen(0, '127.0.0.1', () => r()));
      db = await createTestDatabase();
      const start = (id: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `georoute-${id}-`));
        dirs.push(dir);
        return startProcess({ DATABASE_URL: db.env.DATABASE_URL, DATA_DIR: dir, ADMIN_TOKEN: TEST_TOKEN, INSTANCE_ID: id, CHANGE_POLL_INTERVAL_MS: '300' });
      };
      [a, b] = await Promise.all([start('instance-a'), start('instance-b')]);
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await db?.drop();
      checker.close();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    it('a change made through one instance is in the other one DNS answers within 1 s', async () => {
      expect(addresses(await query(b.dnsPort, 'cdn.example.com', 'A', { subnet: '133.242.0.0/24' }))).toEqual(['203.0.113.10']);
      const res = await api(a).patch('/v1/regions/ap-northeast-1').set(auth).send({ drained: true });
      expect(res.status).toBe(200);
      const t0 = Date.now();
      await waitFor('instance b to see the change', async () => addresses(await query(b.dnsPort, 'cdn.example.com', 'A', { subnet: '133.242.0.0/24' }))[0] !== '203.0.113.10', 1000, 10);
      expect(Date.now() - t0).toBeLessThan(1000);
    });

    it('still propagates when the LISTEN connection is killed (reconnect and polling fallback)', async () => {
      const admin = new Client({ connectionString: db.env.DATABASE_URL });
      await admin.connect();
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'georoute-listener:instance-b'`);
      await admin.end();
      expect(killed.rowCount).toBe(1);
      expect((await api(a).patch('/v1/regions/ap-northeast-1').set(auth).send({ drained: false })).status).toBe(200);
      const t0 = Date.now();
      await waitFor('instance b to see the change', async () => addresses(await query(b.dnsPort, 'cdn.example.com', 'A', { subnet: '133.242.0.0/24' }))[0] === '203.0.113.10', 1000, 10);
      expect(Date.now() - t0).toBeLessThan(1000);
    });

    it('lists the instances with their last-seen time and snapshot version', async () => {
      await waitFor('both instances listed with their ports', async () => (await api(a).get('/v1/instances').set(auth)).body.items?.filter((i: { dnsPort: number | null }) => i.dnsPort !== null).length === 2, 5000, 100);
      const res = await api(b).get('/v1/instances').set(auth);
      expect(res.body.items.map((i: { instanceId: string }) => i.instanceId)).toEqual(['instance-a', 'instance-b']);
      for (const i of res.body.items) {
        expect(i).toMatchObject({ live: true, snapshotVersion: expect.any(Number), dnsPort: expect.any(Number) });
        expect(Date.now() - Date.parse(i.lastSeen)).toBeLessThan(10000);
      }
    });

    it('one instance failing its probes cannot fail a region over; a majority can', async () => {
      const port = (checker.address() as net.AddressInfo).port;
      const patch = await api(a).patch('/v1/regions/eu-west-1').set(auth).send({
        healthCheck: { type: 'http', target: `http://127.0.0.1:${port}/health`, intervalSeconds: 1, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2 },
      });
      expect(patch.status).toBe(200);
      const status = async (app: ProcessApp) => (await api(app).get('/v1/regions/eu-west-1/health').set(auth)).body.status;
      await waitFor('healthy on both', async () => (await status(a)) === 'healthy' && (await status(b)) === 'healthy', 8000, 100);

      failFor = new Set(['instance-b']);
      await new Promise((r) => setTimeout(r, 4000));
      expect(await status(a)).toBe('healthy');
      expect(await status(b)).toBe('healthy');
      const h = (await api(a).get('/v1/regions/eu-west-1/health').set(auth)).body;
      expect(h.votes).toEqual(expect.arrayContaining([expect.objectContaining({ instance: 'instance-b', status: 'unhealthy' }), expect.objectContaining({ instance: 'instance-a', status: 'healthy' })]));

      failFor = new Set(['*']);
      await waitFor('unhealthy on both', async () => (await status(a)) === 'unhealthy' && (await status(b)) === 'unhealthy', 8000, 100);
      const dns = async (app: ProcessApp) => addresses(await query(app.dnsPort, 'cdn.example.com', 'A', { subnet: '81.2.69.0/24' }))[0];
      expect(await dns(a)).not.toBe('198.51.100.10');
      expect(await dns(b)).not.toBe('198.51.100.10');
      const events = (await api(a).get('/v1/health/events?region=eu-west-1').set(auth)).body.items.filter((e: { to: string }) => e.to === 'unhealthy');
      expect(events).toHaveLength(1);
      failFor = new Set();
    });
  });
}

// Runs with either database: one instance lists itself, with its ports and snapshot version.
describe('the instance list', () => {
  it('shows this instance as live, with its DNS port and snapshot version', async () => {
    const db = await createTestDatabase();
    const app = await startTestApp(db, { CONFIG_FILE: '', INSTANCE_ID: 'solo-1' });
    try {
      const items = await waitFor(
        'this instance listed with its ports',
        async () => {
          const body = (await app.api('get', '/v1/instances')).body;
          return body.items?.length === 1 && body.items[0].dnsPort !== null ? body.items : undefined;
        },
        5000,
        100,
      );
      expect(items[0]).toMatchObject({ instanceId: 'solo-1', live: true, dnsPort: app.dnsPort, httpPort: app.httpPort });
      expect(items[0].snapshotVersion).toBeGreaterThan(0);
    } finally {
      await app.stop();
      await db.drop();
    }
  });
});
