import * as http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { signWebhook } from '../src/health/webhook-verifier';
import { query, rcodeOf, waitFor } from './support/dns-client';
import { SnapshotStore } from '../src/snapshot/snapshot.store';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';

const REGION_SECRET = 'notify-test-region-secret-0123456789';

interface Received {
  id: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  verified: boolean;
}

describe('alerts: notification endpoints with signed Standard Webhooks', () => {
  let db: TestDatabase;
  let app: TestApp;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const received: Received[] = [];
  /** Answers 500 to this many requests before answering 204. */
  let failNext = 0;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified: boolean;
      try {
        // The receiver checks the signature with the Standard Webhooks library itself.
        new Webhook(secret).verify(body, req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      received.push({ id: String(req.headers['webhook-id']), headers: req.headers, body, json: JSON.parse(body), verified });
      if (failNext > 0) {
        failNext--;
        res.writeHead(500).end();
      } else res.writeHead(204).end();
    });
  });
  let url = '';
  const healthWebhook = async (region: string, status: 'healthy' | 'unhealthy', metrics?: object) => {
    const raw = JSON.stringify({ region, status, reason: 'notification test', ...(metrics ? { metrics } : {}) });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const res = await app.http.post('/v1/health/webhook').set({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(REGION_SECRET, id, ts, raw) }).send(raw);
    expect(res.status).toBe(202);
  };
  const ofType = (type: string) => received.filter((r) => r.json.type === type);

  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/georoute`;
    db = await createTestDatabase();
    // Alerts about this instance's own state, checked every second here (default: a minute).
    app = await startTestApp(db, { CONFIG_FILE: '', ALERT_WINDOW_SECONDS: '1', ALERT_RESIDENCY_REFUSALS: '3' });
    for (const r of ['eu-west-1', 'eu-central-1']) expect((await app.api('patch', `/v1/regions/${r}`, { webhookSecret: REGION_SECRET })).status).toBe(200);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    receiver.close();
  });

  it.each<[string, object, string]>([
    ['a URL that is not http(s)', { url: 'ftp://ops.example.net/x', secret: 'whsec_' + 'A'.repeat(44), events: ['region.unhealthy'] }, 'url'],
    ['a short secret', { url: 'https://ops.example.net/x', secret: 'short', events: ['region.unhealthy'] }, 'secret'],
    ['an unknown event', { url: 'https://ops.example.net/x', secret: 'whsec_' + 'A'.repeat(44), events: ['region.sad'] }, 'events'],
    ['no events', { url: 'https://ops.example.net/x', secret: 'whsec_' + 'A'.repeat(44), events: [] }, 'events'],
  ])('refuses %s (400, nothing stored)', async (_name, body, field) => {
    const res = await app.api('post', '/v1/notifications', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect((await app.api('get', '/v1/notifications')).body.items).toEqual([]);
  });

  let endpointId = '';

  it('registers an endpoint (secret write-only) and sends a signed sample on request', async () => {
    const created = await app.api('post', '/v1/notifications', { url, secret, events: ['region.unhealthy', 'region.healthy', 'replication.promoted'], description: 'sre pager' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url, events: ['region.unhealthy', 'region.healthy', 'replication.promoted'], secretSet: true, createdBy: 'admin' });
    expect(JSON.stringify(created.body)).not.toContain(secret);
    endpointId = created.body.id;
    expect((await app.api('get', `/v1/notifications/${endpointId}`)).body).toEqual(created.body);

    const test = await app.api('post', `/v1/notifications/${endpointId}/test`);
    expect([test.status, test.body.eventType]).toEqual([202, 'notification.test']);
    const sample = await waitFor('the sample', async () => ofType('notification.test')[0], 5000, 20);
    expect(sample).toMatchObject({ id: `msg_${test.body.deliveryId}`, verified: true, json: { type: 'notification.test', data: { endpoint: endpointId } } });
    expect(sample.headers['user-agent']).toBe('georoute-notifications');
    const status = await waitFor('the delivery status', async () => {
      const items = (await app.api('get', `/v1/notifications/${endpointId}/deliveries`)).body.items;
      return items[0]?.status === 'delivered' ? items : undefined;
    }, 3000, 20);
    expect(status[0]).toMatchObject({ id: test.body.deliveryId, eventType: 'notification.test', status: 'delivered', attempts: 1, lastStatus: 'HTTP 204 (attempt 1)', nextAttemptAt: null });
    expect((await app.api('post', '/v1/notifications/0000000000000000/test')).status).toBe(404);
  });

  it('never reaches a metadata or link-local address: the outbound policy refuses the delivery', async () => {
    const made = await app.api('post', '/v1/notifications', { url: 'http://169.254.169.254/latest/meta-data', secret, events: ['region.unhealthy'] });
    expect(made.status).toBe(201);
    const test = await app.api('post', `/v1/notifications/${made.body.id}/test`);
    expect(test.status).toBe(202);
    const refused = await waitFor('the refusal', async () => {
      const items = (await app.api('get', `/v1/notifications/${made.body.id}/deliveries`)).body.items;
      return items[0]?.lastStatus ? items[0] : undefined;
    }, 5000, 20);
    expect(refused.status).not.toBe('delivered');
    expect(refused.lastStatus).toContain('refused by the outbound policy');
    expect((await app.api('delete', `/v1/notifications/${made.body.id}`)).status).toBe(204);
  });

  it('tells the endpoint when a region goes unhealthy and when it recovers, signed', async () => {
    await healthWebhook('eu-west-1', 'unhealthy');
    const down = await waitFor('region.unhealthy', async () => ofType('region.unhealthy')[0], 5000, 20);
    expect(down).toMatchObject({ verified: true, json: { type: 'region.unhealthy', data: { region: 'eu-west-1', to: 'unhealthy', source: 'webhook' } } });
    await healthWebhook('eu-west-1', 'healthy');
    const up = await waitFor('region.healthy', async () => ofType('region.healthy')[0], 5000, 20);
    expect(up).toMatchObject({ verified: true, json: { type: 'region.healthy', data: { region: 'eu-west-1', from: 'unhealthy', to: 'healthy' } } });
    // A signature made with another secret does not verify: the receiver's check is real.
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(up.body, up.headers as Record<string, string>)).toThrow();
  });

  it('retries with backoff until the endpoint answers 2xx, with the same webhook-id', async () => {
    failNext = 2;
    const before = received.length;
    await healthWebhook('eu-central-1', 'unhealthy');
    const attempts = await waitFor('three attempts', async () => {
      const got = received.slice(before).filter((r) => r.json.type === 'region.unhealthy');
      return got.length >= 3 ? got : undefined;
    }, 8000, 50);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(attempts.every((a) => a.verified)).toBe(true);
    const t = attempts.map((a) => Number(a.headers['webhook-timestamp']));
    expect(t[2] - t[0]).toBeGreaterThanOrEqual(2); // 1 s, then 2 s
    const delivery = await waitFor('delivered after 3 attempts', async () => {
      const items = (await app.api('get', `/v1/notifications/${endpointId}/deliveries`)).body.items;
      const d = items.find((i: { id: string }) => `msg_${i.id}` === attempts[0].id);
      return d?.status === 'delivered' ? d : undefined;
    }, 3000, 20);
    expect(delivery).toMatchObject({ attempts: 3, lastStatus: 'HTTP 204 (attempt 3)' });
    await healthWebhook('eu-central-1', 'healthy');
  });

  it('reports a promotion', async () => {
    expect((await app.api('patch', '/v1/services/app.example.com', { replication: { mode: 'active-passive', primary: 'eu-west-1' } })).status).toBe(200);
    expect((await app.api('post', '/v1/services/app.example.com/promote', { region: 'eu-central-1', force: true })).status).toBe(200);
    const promoted = await waitFor('replication.promoted', async () => ofType('replication.promoted')[0], 5000, 20);
    expect(promoted).toMatchObject({ verified: true, json: { data: { service: 'app.example.com', from: 'eu-west-1', to: 'eu-central-1', forced: true } } });
  });

  it('tells when a replica goes stale and when it is fresh again, once per report', async () => {
    // After the promotion eu-central-1 is the primary; eu-west-1 is a replica that has not reported since.
    // A bound on staleness makes every replica without a report stale: that happens before the endpoint exists.
    expect((await app.api('patch', '/v1/services/app.example.com', { replication: { mode: 'active-passive', primary: 'eu-central-1', maxStalenessMs: 1000 } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const created = await app.api('post', '/v1/notifications', { url, secret, events: ['replica.stale', 'replica.fresh'] });
    expect(created.status).toBe(201);
    const about = (type: string) => ofType(type).filter((r) => r.json.data.region === 'eu-west-1');
    await healthWebhook('eu-west-1', 'healthy', { replicationLagMs: 120 });
    const fresh = await waitFor('replica.fresh', async () => about('replica.fresh')[0], 5000, 20);
    expect(fresh).toMatchObject({ verified: true, json: { data: { service: 'app.example.com', region: 'eu-west-1', staleBecause: null, lagMs: 120 } } });
    await healthWebhook('eu-west-1', 'healthy', { replicationLagMs: 4000 });
    const stale = await waitFor('replica.stale', async () => about('replica.stale')[0], 5000, 20);
    expect(stale).toMatchObject({ verified: true, json: { data: { service: 'app.example.com', region: 'eu-west-1', staleBecause: 'lag-exceeds-bound', lagMs: 4000 } } });
    await new Promise((r) => setTimeout(r, 700)); // later snapshots of the same state raise nothing more
    expect(ofType('replica.fresh').concat(ofType('replica.stale')).map((r) => `${r.json.type} ${r.json.data.region}`)).toEqual(['replica.fresh eu-west-1', 'replica.stale eu-west-1']);
    expect((await app.api('delete', `/v1/notifications/${created.body.id}`)).status).toBe(204);
  });

  // Two instances need a server: PGlite is one backend in one process (CI runs this with DATABASE_URL).
  if (process.env.DATABASE_URL) {
    it('sends each event once however many instances run', async () => {
      const other = await startTestApp(db, { CONFIG_FILE: 'none' });
      try {
        const before = received.length;
        for (let i = 0; i < 3; i++) {
          await healthWebhook('eu-west-1', 'unhealthy');
          await healthWebhook('eu-west-1', 'healthy');
        }
        await waitFor('six notifications', async () => received.length - before >= 6, 5000, 20);
        await new Promise((r) => setTimeout(r, 1500)); // any duplicate would arrive by now
        const ids = received.slice(before).map((r) => r.id);
        expect(ids).toHaveLength(6);
        expect(new Set(ids).size).toBe(6);
        // A replica flip is seen by both instances (lag reports are shared through the database): still one delivery each.
        const replicas = await app.api('post', '/v1/notifications', { url, secret, events: ['replica.stale', 'replica.fresh'] });
        const mark = received.length;
        await healthWebhook('eu-west-1', 'healthy', { replicationLagMs: 100 });
        await new Promise((r) => setTimeout(r, 3000)); // the other instance syncs lag reports every 2 s
        await healthWebhook('eu-west-1', 'healthy', { replicationLagMs: 4000 });
        await new Promise((r) => setTimeout(r, 3000));
        expect(received.slice(mark).map((r) => `${r.json.type} ${r.json.data.region}`)).toEqual(['replica.fresh eu-west-1', 'replica.stale eu-west-1']);
        expect((await app.api('delete', `/v1/notifications/${replicas.body.id}`)).status).toBe(204);
      } finally {
        await other.stop();
      }
    });
  }

  it('deleting the endpoint stops its notifications', async () => {
    expect((await app.api('delete', `/v1/notifications/${endpointId}`)).status).toBe(204);
    expect((await app.api('get', `/v1/notifications/${endpointId}`)).status).toBe(404);
    const before = received.length;
    await healthWebhook('eu-west-1', 'unhealthy');
    await new Promise((r) => setTimeout(r, 1000));
    expect(received.length).toBe(before);
  });

  it('residency.refusals: this instance refused at least the threshold in one window (DNS and explain counted)', async () => {
    const made = await app.api('post', '/v1/notifications', { url, secret, events: ['residency.refusals'] });
    expect(made.status).toBe(201);
    // A GDPR-resident service with no EU region: every EU client is refused.
    expect((await app.api('post', '/v1/services', { fqdn: 'us-only.example.com', policy: 'proximity', regions: ['us-east-1'], residency: 'gdpr' })).status).toBe(201);
    const first = ofType('residency.refusals').length;
    // French clients (ECS), and the explain API for one of them (it counts like any path): five
    // refusals sent at once. A window boundary may fall inside the burst (a 1 s window on a loaded
    // machine), but five split over two windows leave at least three in one and never three in both:
    // exactly one alert either way.
    const [explained, ...answers] = await Promise.all([
      app.api('get', '/v1/route?fqdn=us-only.example.com&client=80.12.0.1'),
      ...[0, 1, 2, 3].map((i) => query(app.dnsPort, 'us-only.example.com', 'A', { subnet: `80.12.${i}.0/24` })),
    ]);
    expect(explained.body.reason).toBe('residency-no-eligible-region');
    expect(answers.map((a) => rcodeOf(a))).toEqual(['SERVFAIL', 'SERVFAIL', 'SERVFAIL', 'SERVFAIL']);
    const alert = await waitFor('the residency alert', async () => ofType('residency.refusals')[first], 6000, 50);
    expect(alert.verified).toBe(true);
    expect(alert.json.data).toMatchObject({ instance: expect.any(String), threshold: 3 });
    expect(alert.json.data.refusals).toBeGreaterThanOrEqual(3);
    expect(alert.json.data.services).toEqual(expect.arrayContaining([expect.objectContaining({ service: 'us-only.example.com' })]));
    // Quiet windows raise nothing more.
    await new Promise((r) => setTimeout(r, 2500));
    expect(ofType('residency.refusals').length).toBe(first + 1);
    expect((await app.api('delete', '/v1/services/us-only.example.com')).status).toBe(204);
    expect((await app.api('delete', `/v1/notifications/${made.body.id}`)).status).toBe(204);
  });

  it('snapshot.build-failed: once when builds start failing, with the error; the last good snapshot keeps serving', async () => {
    const made = await app.api('post', '/v1/notifications', { url, secret, events: ['snapshot.build-failed'] });
    expect(made.status).toBe(201);
    const first = ofType('snapshot.build-failed').length;
    // A row no API would accept (a static A record at a routed name), written behind georoute's
    // back: the next full rebuild refuses it.
    const service = (await app.api('get', '/v1/services')).body.items[0].fqdn as string;
    await app.ds.query(`INSERT INTO zone_records (id, zone_name, name, type, ttl, "values") VALUES ('00000000-0000-4000-8000-00000000bad1', 'example.com', $1, 'A', 60, '["192.0.2.1"]'::jsonb)`, [service]);
    try {
      const store = app.running.app.get(SnapshotStore);
      await store.requestRebuild({ reload: true });
      await store.requestRebuild({ reload: true });
      const alert = await waitFor('the build failure alert', async () => ofType('snapshot.build-failed')[first], 5000, 50);
      expect(alert.verified).toBe(true);
      expect(String(alert.json.data.error)).toContain('clashes with the service');
      expect(alert.json.data.servingVersion).toEqual(expect.any(Number));
      // Two failed rebuilds, one alert.
      await new Promise((r) => setTimeout(r, 500));
      expect(ofType('snapshot.build-failed').length).toBe(first + 1);
    } finally {
      await app.ds.query(`DELETE FROM zone_records WHERE id = '00000000-0000-4000-8000-00000000bad1'`);
      await app.running.app.get(SnapshotStore).requestRebuild({ reload: true });
    }
    expect(app.running.app.get(SnapshotStore).lastError).toBeNull();
    expect((await app.api('delete', `/v1/notifications/${made.body.id}`)).status).toBe(204);
  });
});
