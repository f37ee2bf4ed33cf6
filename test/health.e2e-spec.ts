import * as http from 'node:http';
import * as net from 'node:net';
import { randomUUID } from 'node:crypto';
import { signWebhook } from '../src/health/webhook-verifier';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { addresses, dig, query, waitFor } from './support/dns-client';

const SECRET = 'whsec_' + Buffer.from('region-secret-for-tests-0123456789').toString('base64');
const GLOBAL_SECRET = 'global-webhook-secret-for-tests-0123';

/** A real HTTP endpoint whose health we switch, counting requests. */
function flakyServer() {
  let failing = false;
  let requests = 0;
  let failedRequests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (failing) {
      failedRequests++;
      res.writeHead(503).end('down');
    } else res.writeHead(200).end('ok');
  });
  return {
    server,
    listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port))),
    fail: (v: boolean) => {
      failing = v;
      failedRequests = 0;
    },
    get requests() {
      return requests;
    },
    get failedRequests() {
      return failedRequests;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function signed(body: unknown, opts: { secret?: string; id?: string; ts?: number } = {}) {
  const raw = JSON.stringify(body);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return {
    raw,
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(opts.secret ?? SECRET, id, ts, raw) },
  };
}

describe('health: probes, webhooks and failover in DNS', () => {
  let db: TestDatabase;
  let app: TestApp;
  const web = flakyServer();
  let tcpServer: net.Server;
  let tcpPort: number;

  const post = (w: { raw: string; headers: Record<string, string> }) => app.http.post('/v1/health/webhook').set(w.headers).send(w.raw);
  const answer = async (name = 'app.example.com') => addresses(await query(app.dnsPort, name, 'A'));

  beforeAll(async () => {
    const webPort = await web.listen();
    tcpServer = net.createServer((s) => s.end());
    tcpPort = await new Promise<number>((r) => tcpServer.listen(0, '127.0.0.1', () => r((tcpServer.address() as net.AddressInfo).port)));
    db = await createTestDatabase();
    app = await startTestApp(db, { WEBHOOK_SECRET: GLOBAL_SECRET });
    const ok = (res: { status: number; body: unknown }) => expect([res.status, res.body]).toEqual([201, expect.anything()]);
    ok(await app.api('post', '/v1/zones', { name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' }));
    ok(await app.api('post', '/v1/regions', {
      name: 'primary-1', countryCode: 'US', location: { latitude: 39, longitude: -77 }, endpoints: { ipv4: ['192.0.2.1'] },
      healthCheck: { type: 'http', target: `http://127.0.0.1:${webPort}/healthz`, intervalSeconds: 1, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 3 },
    }));
    ok(await app.api('post', '/v1/regions', {
      name: 'secondary-1', countryCode: 'US', location: { latitude: 45, longitude: -120 }, endpoints: { ipv4: ['192.0.2.2'] },
      healthCheck: { type: 'tcp', target: `127.0.0.1:${tcpPort}`, intervalSeconds: 1, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 1 },
    }));
    ok(await app.api('post', '/v1/regions', {
      name: 'pushed-1', countryCode: 'US', location: { latitude: 40, longitude: -100 }, endpoints: { ipv4: ['192.0.2.3'] }, webhookSecret: SECRET,
    }));
    ok(await app.api('post', '/v1/services', { fqdn: 'app.example.com', policy: 'failover', regions: ['primary-1', 'secondary-1'], residency: 'none' }));
    ok(await app.api('post', '/v1/services', { fqdn: 'push.example.com', policy: 'failover', regions: ['pushed-1', 'secondary-1'], residency: 'none' }));
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    await web.close();
    tcpServer.close();
  });

  it('probes make a region healthy after healthyThreshold successes', async () => {
    await waitFor('primary-1 healthy', async () => (await app.api('get', '/v1/regions/primary-1/health')).body.status === 'healthy', 8000, 50);
    const h = (await app.api('get', '/v1/regions/primary-1/health')).body;
    expect(h).toMatchObject({ region: 'primary-1', status: 'healthy', routable: true, probe: { intervalSeconds: 1, healthyThreshold: 2, unhealthyThreshold: 3 } });
    expect(h.sources.probe.recent.length).toBeGreaterThanOrEqual(2);
    expect(h.sources.probe.last).toMatchObject({ ok: true, source: 'probe' });
    expect(await answer()).toEqual(['192.0.2.1']);
  });

  it('fails over after exactly unhealthyThreshold failed probes, and back after recovery', async () => {
    web.fail(true);
    // Answers stay on primary while fewer than 3 probes have failed.
    const flipAt = await waitFor(
      'the answer to change',
      async () => {
        const failed = web.failedRequests;
        const a = await answer();
        if (a[0] === '192.0.2.1') {
          expect(failed).toBeLessThan(3 + 1);
          return false;
        }
        return failed;
      },
      8000,
      5,
    );
    expect(flipAt).toBe(3);
    expect(await answer()).toEqual(['192.0.2.2']);
    const h = (await app.api('get', '/v1/regions/primary-1/health')).body;
    expect(h.status).toBe('unhealthy');
    expect(h.reason).toMatch(/503/);
    web.fail(false);
    await waitFor('recovery', async () => (await answer())[0] === '192.0.2.1', 8000, 20);
  });

  it('a tcp probe that is refused takes the region out', async () => {
    await waitFor('secondary healthy', async () => (await app.api('get', '/v1/regions/secondary-1/health')).body.status === 'healthy', 8000, 50);
    await new Promise<void>((r) => tcpServer.close(() => r()));
    await waitFor('secondary unhealthy', async () => (await app.api('get', '/v1/regions/secondary-1/health')).body.status === 'unhealthy', 8000, 50);
    const h = (await app.api('get', '/v1/regions/secondary-1/health')).body;
    expect(h.reason).toMatch(/refused/i);
    tcpServer = net.createServer((s) => s.end());
    await new Promise<void>((r) => tcpServer.listen(tcpPort, '127.0.0.1', () => r()));
    await waitFor('secondary healthy again', async () => (await app.api('get', '/v1/regions/secondary-1/health')).body.status === 'healthy', 8000, 50);
  });

  it('an accepted unhealthy webhook changes the DNS answer at once', async () => {
    expect(await answer('push.example.com')).toEqual(['192.0.2.3']);
    const res = await post(signed({ region: 'pushed-1', status: 'unhealthy', reason: 'database down' }));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ region: 'pushed-1', accepted: true, status: 'unhealthy' });
    const t0 = Date.now();
    await waitFor('answer change', async () => (await answer('push.example.com'))[0] === '192.0.2.2', 1000, 2);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(await dig(app.dnsPort, ['+short', 'push.example.com'])).toBe('192.0.2.2\n');
  });

  it('refuses bad signatures, stale timestamps and replays with 401 and changes nothing', async () => {
    const before = (await app.api('get', '/v1/regions/pushed-1/health')).body;
    const good = signed({ region: 'pushed-1', status: 'healthy' });
    const tampered = { raw: good.raw.replace('healthy', 'healthx'), headers: good.headers };
    const wrongSecret = signed({ region: 'pushed-1', status: 'healthy' }, { secret: 'whsec_' + Buffer.from('not-the-right-secret-0123456789').toString('base64') });
    const stale = signed({ region: 'pushed-1', status: 'healthy' }, { ts: Math.floor(Date.now() / 1000) - 310 });
    const future = signed({ region: 'pushed-1', status: 'healthy' }, { ts: Math.floor(Date.now() / 1000) + 310 });
    const missing = { raw: good.raw, headers: { 'content-type': 'application/json' } };
    for (const [w, reason] of [[tampered, 'bad-signature'], [wrongSecret, 'bad-signature'], [stale, 'stale-timestamp'], [future, 'stale-timestamp'], [missing, 'missing-headers']] as const) {
      const res = await post(w);
      expect([res.status, res.body.reason]).toEqual([401, reason]);
    }
    expect((await app.api('get', '/v1/regions/pushed-1/health')).body.status).toBe(before.status);
    expect(await answer('push.example.com')).toEqual(['192.0.2.2']);

    // The first delivery is applied; the same delivery again is a replay.
    const accepted = await post(good);
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('healthy');
    await waitFor('answer back', async () => (await answer('push.example.com'))[0] === '192.0.2.3', 1000, 2);
    const down = signed({ region: 'pushed-1', status: 'unhealthy' });
    expect((await post(down)).status).toBe(202);
    const replay = await post(good);
    expect([replay.status, replay.body.reason]).toEqual([401, 'replay']);
    expect((await app.api('get', '/v1/regions/pushed-1/health')).body.status).toBe('unhealthy');
  });

  it('accepts the global WEBHOOK_SECRET only for regions without their own, answers 404 for unknown regions, 400 for bad bodies, 413 when too large', async () => {
    const viaGlobal = await post(signed({ region: 'primary-1', status: 'healthy' }, { secret: GLOBAL_SECRET }));
    expect(viaGlobal.status).toBe(202);
    // pushed-1 has its own webhookSecret: it replaces WEBHOOK_SECRET for that region.
    const before = (await app.api('get', '/v1/regions/pushed-1/health')).body.status;
    const globalForOwn = await post(signed({ region: 'pushed-1', status: before === 'healthy' ? 'unhealthy' : 'healthy' }, { secret: GLOBAL_SECRET }));
    expect([globalForOwn.status, globalForOwn.body.reason]).toEqual([401, 'bad-signature']);
    expect((await app.api('get', '/v1/regions/pushed-1/health')).body.status).toBe(before);
    expect((await post(signed({ region: 'pushed-1', status: 'healthy' }))).status).toBe(202);
    expect((await post(signed({ region: 'nowhere-1', status: 'healthy' }, { secret: GLOBAL_SECRET }))).status).toBe(404);
    const bad = await post(signed({ region: 'pushed-1', status: 'sideways' }));
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('status');
    const unknownField = await post(signed({ region: 'pushed-1', status: 'healthy', admin: true }));
    expect(unknownField.status).toBe(400);
    const big = await post(signed({ region: 'pushed-1', status: 'healthy', reason: 'x'.repeat(17 * 1024) }));
    expect(big.status).toBe(413);
  });

  it('keeps the transitions, paged newest first', async () => {
    const page1 = await app.api('get', '/v1/health/events?limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await app.api('get', `/v1/health/events?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items[0].id).toBeLessThan(page1.body.items[1].id);
    const all = await app.api('get', '/v1/health/events?region=pushed-1&limit=100');
    expect(all.body.items.every((e: { region: string }) => e.region === 'pushed-1')).toBe(true);
    expect(all.body.items[0]).toMatchObject({ region: 'pushed-1', source: 'webhook', from: expect.any(String), to: expect.any(String), at: expect.any(String) });
  });

  it('keeps the last known state across a restart', async () => {
    expect((await post(signed({ region: 'pushed-1', status: 'unhealthy', reason: 'maintenance' }))).status).toBe(202);
    await app.stop();
    app = await startTestApp(db, { WEBHOOK_SECRET: GLOBAL_SECRET });
    const h = (await app.api('get', '/v1/regions/pushed-1/health')).body;
    expect(h).toMatchObject({ status: 'unhealthy', reason: expect.stringContaining('maintenance') });
    expect(await answer('push.example.com')).toEqual(['192.0.2.2']);
  });
});

describe('health: webhooks without WEBHOOK_SECRET', () => {
  let db: TestDatabase;
  let app: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db);
    expect((await app.api('post', '/v1/regions', { name: 'open-1', countryCode: 'US', location: { latitude: 40, longitude: -100 }, endpoints: { ipv4: ['192.0.2.9'] } })).status).toBe(201);
    expect((await app.api('post', '/v1/regions', { name: 'closed-1', countryCode: 'US', location: { latitude: 41, longitude: -100 }, endpoints: { ipv4: ['192.0.2.8'] }, webhookSecret: SECRET })).status).toBe(201);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('answers the same 401 for an unknown region, a region without a secret and a wrong signature', async () => {
    const wrong = 'whsec_' + Buffer.from('an-attacker-guessing-secret-0123').toString('base64');
    const answers = [];
    for (const region of ['nowhere-1', 'open-1', 'closed-1']) {
      const w = signed({ region, status: 'unhealthy' }, { secret: wrong });
      const res = await app.http.post('/v1/health/webhook').set(w.headers).send(w.raw);
      answers.push({ status: res.status, body: res.body, type: res.headers['content-type'] });
    }
    expect(answers[0].status).toBe(401);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(JSON.stringify(answers[0].body)).not.toMatch(/nowhere|open-1|secret is configured/);
  });

  it('checks the signature before any database work', async () => {
    const { HealthRepository } = await import('../src/health/health.repository');
    const repository = app.running.app.get(HealthRepository);
    const calls: string[] = [];
    for (const name of ['regions', 'rememberWebhookId'] as const) {
      const real = repository[name].bind(repository) as (...args: unknown[]) => unknown;
      jest.spyOn(repository, name).mockImplementation(((...args: unknown[]) => {
        calls.push(name);
        return real(...args);
      }) as never);
    }
    try {
      for (let i = 0; i < 5; i++) {
        const unsigned = { raw: JSON.stringify({ region: `unknown-${i}`, status: 'healthy' }), headers: { 'content-type': 'application/json', 'webhook-id': `msg_${i}`, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' } };
        expect((await app.http.post('/v1/health/webhook').set(unsigned.headers).send(unsigned.raw)).status).toBe(401);
      }
      expect(calls).toEqual([]);
      // A signed delivery for a known region does reach the database (the replay table).
      const ok = signed({ region: 'closed-1', status: 'healthy' });
      expect((await app.http.post('/v1/health/webhook').set(ok.headers).send(ok.raw)).status).toBe(202);
      expect(calls).toContain('rememberWebhookId');
    } finally {
      jest.restoreAllMocks();
    }
  });
});

describe('health: heartbeat timeout', () => {
  it('a region that stops reporting becomes unhealthy when its heartbeat timeout passes', async () => {
    const db = await createTestDatabase();
    const app = await startTestApp(db);
    try {
      await app.api('post', '/v1/zones', { name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' });
      const created = await app.api('post', '/v1/regions', {
        name: 'beating-1', countryCode: 'DE', location: { latitude: 50, longitude: 8 }, endpoints: { ipv4: ['198.51.100.7'] },
        webhookSecret: SECRET, heartbeatTimeoutSeconds: 5,
      });
      expect(created.status).toBe(201);
      const t0 = Date.now();
      const beat = signed({ region: 'beating-1', status: 'healthy' });
      const up = await app.http.post('/v1/health/webhook').set(beat.headers).send(beat.raw);
      expect(up.status).toBe(202);
      expect(up.body.status).toBe('healthy');
      await waitFor('heartbeat timeout', async () => (await app.api('get', '/v1/regions/beating-1/health')).body.status === 'unhealthy', 9000, 100);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(4900);
      const h = (await app.api('get', '/v1/regions/beating-1/health')).body;
      expect(h.reason).toMatch(/heartbeat/);
    } finally {
      await app.stop();
      await db.drop();
    }
  });
});
