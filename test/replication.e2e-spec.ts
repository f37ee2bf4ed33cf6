import * as http from 'node:http';
import * as net from 'node:net';
import { randomUUID } from 'node:crypto';
import { signWebhook, verifyWebhook } from '../src/health/webhook-verifier';
import { createTestDatabase, dumpRegistry, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { addresses, query, rcodeOf, waitFor } from './support/dns-client';

const WEBHOOK_SECRET = 'global-webhook-secret-for-replication-tests';
const NOTIFY_SECRET = 'whsec_' + Buffer.from('operator-notify-secret-0123456789abcdef').toString('base64');

// Clients the bundled DB-IP database places: Hanover (DE, EU) and Kansas (US).
const HANOVER = '193.99.144.80';
const HANOVER_ECS = '193.99.144.0/24';
const KANSAS = '4.2.2.2';

const REGIONS = [
  { name: 'eu-west-1', countryCode: 'IE', location: { latitude: 53.35, longitude: -6.26 }, endpoints: { ipv4: ['198.51.100.10'], baseUrl: 'https://eu-west-1.db.example.com' } },
  { name: 'eu-central-1', countryCode: 'DE', location: { latitude: 50.11, longitude: 8.68 }, endpoints: { ipv4: ['198.51.100.20'], baseUrl: 'https://eu-central-1.db.example.com' } },
  { name: 'eu-north-1', countryCode: 'SE', location: { latitude: 59.33, longitude: 18.07 }, endpoints: { ipv4: ['198.51.100.30'], baseUrl: 'https://eu-north-1.db.example.com' } },
  { name: 'us-east-1', countryCode: 'US', location: { latitude: 39.04, longitude: -77.49 }, endpoints: { ipv4: ['192.0.2.10'], baseUrl: 'https://us-east-1.db.example.com' } },
];
const ADDRESS: Record<string, string> = Object.fromEntries(REGIONS.map((r) => [r.name, r.endpoints.ipv4[0]]));

/** A real HTTP server standing in for the operator's notification endpoint. */
function operatorEndpoint() {
  const received: { headers: http.IncomingHttpHeaders; raw: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  return {
    received,
    listen: () => new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port))),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function signed(body: unknown) {
  const raw = JSON.stringify(body);
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  return { raw, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(WEBHOOK_SECRET, id, ts, raw) } };
}

describe('replication-aware routing, end to end', () => {
  let db: TestDatabase;
  let app: TestApp;
  const operator = operatorEndpoint();
  let notifyUrl: string;

  const webhook = async (region: string, status: 'healthy' | 'unhealthy', metrics?: Record<string, unknown>) => {
    const w = signed({ region, status, ...(metrics ? { metrics } : {}) });
    return app.http.post('/v1/health/webhook').set(w.headers).send(w.raw);
  };
  const lag = async (region: string, replicationLagMs: unknown, status: 'healthy' | 'unhealthy' = 'healthy') => {
    const res = await webhook(region, status, { replicationLagMs });
    expect([res.status, res.body.detail]).toEqual([202, undefined]);
  };
  const dnsA = async (name: string, subnet = HANOVER_ECS) => addresses(await query(app.dnsPort, name, 'A', { subnet }));
  const explain = async (fqdn: string, client = HANOVER, extra = '') => (await app.api('get', `/v1/route?fqdn=${fqdn}&client=${client}${extra}`)).body;
  const redirect = (method: 'get' | 'post' | 'put' | 'delete' | 'patch', fqdn: string, client = HANOVER) =>
    app.http[method](`/r/${fqdn}/orders/42?x=1`).set('X-Forwarded-For', client);
  const replication = async (fqdn = 'db.example.com') => (await app.api('get', `/v1/services/${fqdn}/replication`)).body;

  beforeAll(async () => {
    notifyUrl = `http://127.0.0.1:${await operator.listen()}/hooks/georoute`;
    db = await createTestDatabase();
    app = await startTestApp(db, { WEBHOOK_SECRET, TRUSTED_PROXIES: '127.0.0.1/32,::1/128' });
    const created = (res: { status: number; body: unknown }) => expect([res.status, res.body]).toEqual([201, expect.anything()]);
    created(await app.api('post', '/v1/zones', { name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' }));
    for (const r of REGIONS) created(await app.api('post', '/v1/regions', r));
    created(
      await app.api('post', '/v1/services', {
        fqdn: 'db.example.com',
        policy: 'proximity',
        regions: ['eu-west-1', 'eu-central-1', 'eu-north-1', 'us-east-1'],
        residency: 'gdpr',
        replication: {
          mode: 'active-passive',
          primary: 'eu-west-1',
          maxStalenessMs: 1000,
          promotion: 'automatic',
          promotionDelaySeconds: 1,
          writeFqdn: 'write.db.example.com',
          notifyUrl,
          notifySecret: NOTIFY_SECRET,
        },
      }),
    );
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    await operator.close();
  });

  it('stores and shows the replication settings, never the notification secret', async () => {
    const svc = (await app.api('get', '/v1/services/db.example.com')).body;
    expect(svc.replication).toEqual({
      mode: 'active-passive',
      primary: 'eu-west-1',
      maxStalenessMs: 1000,
      promotion: 'automatic',
      promotionDelaySeconds: 1,
      conflictResolution: null,
      writeFqdn: 'write.db.example.com',
      notifyUrl,
      notifySecretSet: true,
    });
    expect(JSON.stringify(svc)).not.toContain(NOTIFY_SECRET);
    const exported = (await app.api('get', '/v1/config/export')).body;
    expect(JSON.stringify(exported)).not.toContain(NOTIFY_SECRET);
    expect(exported.services[0].replication).toMatchObject({ mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'write.db.example.com' });
    const clash = await app.api('post', '/v1/zones/example.com/records', { name: 'write.db', type: 'A', values: ['192.0.2.99'] });
    expect(clash.status).toBe(409);
    expect(clash.body.detail).toContain('write name of service db.example.com');
  });

  it('before any lag report only the primary serves reads; the write name answers the primary', async () => {
    expect(await dnsA('db.example.com')).toEqual([ADDRESS['eu-west-1']]);
    const e = await explain('db.example.com');
    expect(e.answer.region).toBe('eu-west-1');
    expect(e.replication).toMatchObject({ mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: 1000, writeFqdn: 'write.db.example.com' });
    expect(e.candidates.find((c: { region: string }) => c.region === 'eu-central-1')).toMatchObject({ role: 'replica', lagMs: null, excludedBecause: 'replica-stale' });
    expect(await dnsA('write.db.example.com')).toEqual([ADDRESS['eu-west-1']]);
    expect(await dnsA('write.db.example.com', '4.2.2.0/24')).toEqual([ADDRESS['eu-west-1']]);
  });

  it('lag reports from webhooks admit fresh replicas to reads (DNS, explain, redirects)', async () => {
    await lag('eu-west-1', 0);
    await lag('eu-central-1', 200);
    await lag('eu-north-1', { 'db.example.com': 50 });
    await lag('us-east-1', 10);
    await waitFor('Hanover reads from eu-central-1', async () => (await dnsA('db.example.com'))[0] === ADDRESS['eu-central-1'], 3000, 20);
    const e = await explain('db.example.com');
    expect(e.reason).toBe('residency-eu-only');
    expect(e.access).toBe('read');
    expect(e.candidates.map((c: { region: string; role: string; lagMs: number | null }) => [c.region, c.role, c.lagMs])).toEqual([
      ['eu-central-1', 'replica', 200],
      ['eu-north-1', 'replica', 50],
      ['eu-west-1', 'primary', 0],
      ['us-east-1', 'replica', 10],
    ]);
    const read = await redirect('get', 'db.example.com');
    expect([read.status, read.headers['x-georoute-region'], read.headers['x-georoute-access']]).toEqual([307, 'eu-central-1', 'read']);
    const view = await replication();
    expect(view.regions.map((r: { region: string; role: string; lagMs: number; readEligible: boolean }) => [r.region, r.role, r.lagMs, r.readEligible])).toEqual([
      ['eu-west-1', 'primary', 0, true],
      ['eu-central-1', 'replica', 200, true],
      ['eu-north-1', 'replica', 50, true],
      ['us-east-1', 'replica', 10, true],
    ]);
    expect(view.regions[1]).toMatchObject({ reportedAt: expect.any(String), maxReportAgeMs: 60000, staleBecause: null, health: 'healthy', jurisdiction: 'EU' });
  });

  it('a replica lagging beyond maxStalenessMs leaves the read answers at once', async () => {
    await lag('eu-central-1', 5000);
    await waitFor('Hanover reads move to eu-north-1', async () => (await dnsA('db.example.com'))[0] === ADDRESS['eu-north-1'], 1000, 5);
    const e = await explain('db.example.com');
    expect(e.answer.region).toBe('eu-north-1');
    expect(e.candidates[0]).toMatchObject({ region: 'eu-central-1', role: 'replica', lagMs: 5000, excludedBecause: 'replica-stale' });
    expect(e.detail).toMatch(/stale replicas not used for reads: eu-central-1/);
    expect((await redirect('get', 'db.example.com')).headers['x-georoute-region']).toBe('eu-north-1');
    expect((await replication()).regions[1]).toMatchObject({ region: 'eu-central-1', readEligible: false, staleBecause: 'lag-exceeds-bound' });
    // The health API keeps the raw report with the webhook observation.
    const health = (await app.api('get', '/v1/regions/eu-central-1/health')).body;
    expect(health.sources.webhook.last.metrics).toEqual({ replicationLagMs: 5000 });
  });

  it('writes go to the primary: unsafe methods are redirected there, and explain tells why', async () => {
    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      const res = await redirect(method, 'db.example.com');
      expect([method, res.status, res.headers['x-georoute-region'], res.headers['x-georoute-reason'], res.headers['x-georoute-access']]).toEqual([
        method, 307, 'eu-west-1', 'write-primary', 'write',
      ]);
      expect(res.headers.location).toBe('https://eu-west-1.db.example.com/orders/42?x=1');
    }
    const e = await explain('db.example.com', HANOVER, '&access=write');
    expect([e.reason, e.access, e.answer.region]).toEqual(['write-primary', 'write', 'eu-west-1']);
    expect(e.candidates.filter((c: { excludedBecause?: string }) => c.excludedBecause === 'not-primary').map((c: { region: string }) => c.region).sort()).toEqual([
      'eu-central-1', 'eu-north-1',
    ]);
    const w = await explain('write.db.example.com', KANSAS);
    expect([w.reason, w.access, w.answer.region, w.replication.writeOf]).toEqual(['write-primary', 'write', 'eu-west-1', 'db.example.com']);
  });

  it('refuses bad lag reports with 400 naming the field, and changes nothing', async () => {
    const before = await replication();
    for (const bad of [-1, 'fast', { 'db.example.com': '5' }, { 'not a name': 5 }, {}, [5], 1e13]) {
      const res = await webhook('eu-north-1', 'unhealthy', { replicationLagMs: bad });
      expect([JSON.stringify(bad), res.status]).toEqual([JSON.stringify(bad), 400]);
      expect(res.body.detail).toContain('metrics.replicationLagMs');
    }
    const after = await replication();
    expect(after.regions.map((r: { health: string; lagMs: number }) => [r.health, r.lagMs])).toEqual(before.regions.map((r: { health: string; lagMs: number }) => [r.health, r.lagMs]));
    // A report for a service the region does not serve is ignored, the delivery accepted.
    expect((await webhook('eu-north-1', 'healthy', { replicationLagMs: { 'nope.example.com': 1 } })).status).toBe(202);
  });

  it('promotes the freshest healthy EU replica after promotionDelaySeconds, exactly once, and notifies the operator signed', async () => {
    await lag('us-east-1', 5); // fresher, but outside the primary's jurisdiction
    await lag('eu-north-1', 50);
    const failedAt = Date.now();
    expect((await webhook('eu-west-1', 'unhealthy')).status).toBe(202);
    // Until the delay has passed the write name still answers the (failing) primary.
    expect(await dnsA('write.db.example.com')).toEqual([ADDRESS['eu-west-1']]);
    await waitFor('the write name to follow the new primary', async () => (await dnsA('write.db.example.com'))[0] === ADDRESS['eu-north-1'], 5000, 20);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(1000);
    const post = await redirect('post', 'db.example.com');
    expect([post.status, post.headers['x-georoute-region'], post.headers['x-georoute-reason']]).toEqual([307, 'eu-north-1', 'write-primary']);
    expect((await redirect('post', 'db.example.com', KANSAS)).headers['x-georoute-region']).toBe('eu-north-1');

    const n = await waitFor('the notification', async () => operator.received.length > 0 && operator.received[0], 5000, 20);
    const v = verifyWebhook(n.raw, n.headers, [NOTIFY_SECRET], Date.now());
    expect(v.ok).toBe(true);
    expect(n.headers['webhook-id']).toMatch(/^promotion_\d+$/);
    const payload = JSON.parse(n.raw.toString('utf8'));
    expect(payload).toMatchObject({
      type: 'replication.promoted',
      data: { service: 'db.example.com', from: 'eu-west-1', to: 'eu-north-1', trigger: 'automatic', forced: false, dataLossWindowMs: 50, writeFqdn: 'write.db.example.com' },
    });
    expect(verifyWebhook(n.raw, n.headers, ['whsec_' + Buffer.from('some-other-secret-0123456789abc').toString('base64')], Date.now()).ok).toBe(false);

    // The scheduler keeps ticking: still exactly one promotion.
    await new Promise((r) => setTimeout(r, 1200));
    const view = await replication();
    expect(view.primary).toBe('eu-north-1');
    expect(view.promotions).toHaveLength(1);
    expect(view.promotions[0]).toMatchObject({
      from: 'eu-west-1', to: 'eu-north-1', trigger: 'automatic', forced: false, dataLossWindowMs: 50,
      notification: { url: notifyUrl, status: expect.stringMatching(/^delivered/), deliveredAt: expect.any(String) },
    });
    expect(view.promotions[0].reason).toMatch(/smallest lag \(50 ms\) in jurisdiction EU/);
    expect(operator.received).toHaveLength(1);
    const rows = await app.ds.query('SELECT count(*)::int AS n FROM replication_promotions');
    expect(rows[0].n).toBe(1);
  });

  it('the old primary comes back as a replica, never as primary, and serves reads only once it reports a fresh lag', async () => {
    expect((await webhook('eu-west-1', 'healthy')).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    const view = await replication();
    expect(view.primary).toBe('eu-north-1');
    expect(view.regions[0]).toMatchObject({ region: 'eu-west-1', role: 'replica', health: 'healthy', lagMs: null, readEligible: false, staleBecause: 'no-report' });
    expect(await dnsA('write.db.example.com')).toEqual([ADDRESS['eu-north-1']]);
    const e = await explain('db.example.com', '81.2.69.10'); // London: nearest is Dublin
    expect(e.candidates.find((c: { region: string }) => c.region === 'eu-west-1')).toMatchObject({ role: 'replica', excludedBecause: 'replica-stale' });
    await lag('eu-west-1', 120);
    await waitFor('London reads from eu-west-1 again', async () => (await explain('db.example.com', '81.2.69.10')).answer.region === 'eu-west-1', 2000, 20);
  });

  it('a PATCH or a configuration apply cannot move the primary back silently (409)', async () => {
    const before = await dumpRegistry(app.ds);
    const svc = (await app.api('get', '/v1/services/db.example.com')).body;
    const { notifySecretSet: _s, ...replicationBody } = svc.replication;
    const res = await app.api('patch', '/v1/services/db.example.com', { replication: { ...replicationBody, primary: 'eu-west-1' } });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/promote/);
    expect(res.body.errors[0].field).toBe('replication.primary');
    const doc = (await app.api('get', '/v1/config/export')).body;
    doc.services[0].replication.primary = 'eu-west-1';
    const applied = await app.api('post', '/v1/config/apply', doc);
    expect(applied.status).toBe(409);
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // Re-sending the current settings (without the secret) keeps the secret.
    expect((await app.api('patch', '/v1/services/db.example.com', { replication: replicationBody })).status).toBe(200);
    expect((await app.api('get', '/v1/services/db.example.com')).body.replication.notifySecretSet).toBe(true);
  });

  it('manual promotion refuses a lagging replica unless forced, and records it', async () => {
    const refused = await app.api('post', '/v1/services/db.example.com/promote', { region: 'eu-central-1' });
    expect([refused.status, refused.body.reason]).toEqual([409, 'lag-exceeds-bound']);
    expect(refused.body.detail).toMatch(/eu-central-1 lags 5000 ms, more than maxStalenessMs 1000/);
    const abroad = await app.api('post', '/v1/services/db.example.com/promote', { region: 'us-east-1' });
    expect([abroad.status, abroad.body.reason]).toEqual([409, 'jurisdiction']);
    const same = await app.api('post', '/v1/services/db.example.com/promote', { region: 'eu-north-1', force: true });
    expect([same.status, same.body.reason]).toEqual([409, 'already-primary']);
    expect((await app.api('post', '/v1/services/db.example.com/promote', { region: 'ap-south-1' })).status).toBe(400);
    expect((await app.api('post', '/v1/services/db.example.com/promote', { region: 'eu-central-1', force: 'yes' })).body.errors[0].field).toBe('force');
    expect((await app.api('post', '/v1/services/db.example.com/promote', { region: 'eu-central-1', extra: 1 })).status).toBe(400);
    expect((await app.api('post', '/v1/services/nope.example.com/promote', { region: 'eu-central-1' })).status).toBe(404);
    expect((await replication()).primary).toBe('eu-north-1');

    const forced = await app.api('post', '/v1/services/db.example.com/promote', { region: 'eu-central-1', force: true });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({ from: 'eu-north-1', to: 'eu-central-1', trigger: 'manual', forced: true, dataLossWindowMs: 5000 });
    expect(await dnsA('write.db.example.com')).toEqual([ADDRESS['eu-central-1']]);
    expect((await redirect('delete', 'db.example.com', KANSAS)).headers['x-georoute-region']).toBe('eu-central-1');
    await waitFor('the second notification', async () => operator.received.length === 2, 5000, 20);
    expect(JSON.parse(operator.received[1].raw.toString('utf8')).data).toMatchObject({ to: 'eu-central-1', trigger: 'manual', forced: true });

    await lag('eu-north-1', 30);
    const ok = await app.api('post', '/v1/services/db.example.com/promote', { region: 'eu-north-1' });
    expect([ok.status, ok.body.forced, ok.body.dataLossWindowMs]).toEqual([200, false, 30]);
    expect((await replication()).promotions.map((p: { to: string }) => p.to)).toEqual(['eu-north-1', 'eu-central-1', 'eu-north-1']);
  });

  describe('residency first, and active-active', () => {
    beforeAll(async () => {
      const created = (res: { status: number; body: unknown }) => expect([res.status, res.body]).toEqual([201, expect.anything()]);
      created(
        await app.api('post', '/v1/services', {
          fqdn: 'ledger.example.com',
          regions: ['us-east-1', 'eu-central-1', 'eu-west-1'],
          residency: 'gdpr',
          replication: { mode: 'active-passive', primary: 'us-east-1', writeFqdn: 'write-ledger.example.com' },
        }),
      );
      created(
        await app.api('post', '/v1/services', {
          fqdn: 'aa.example.com',
          regions: ['us-east-1', 'eu-central-1', 'eu-west-1'],
          residency: 'gdpr',
          replication: { mode: 'active-active', conflictResolution: 'crdt', writeFqdn: 'w.aa.example.com' },
        }),
      );
    });

    it('refuses EU writes when the primary is outside the EU (DNS SERVFAIL with the reason, HTTP 503); EU reads stay in the EU', async () => {
      await waitFor('ledger in DNS', async () => rcodeOf(await query(app.dnsPort, 'write-ledger.example.com', 'A', { subnet: '4.2.2.0/24' })) === 'NOERROR', 2000, 20);
      const refused = await query(app.dnsPort, 'write-ledger.example.com', 'A', { subnet: HANOVER_ECS });
      expect(rcodeOf(refused)).toBe('SERVFAIL');
      const opt = (refused.additionals ?? []).find((a) => a.type === 'OPT') as unknown as { options: { code: number; data?: Buffer }[] };
      const ede = opt.options.find((o) => o.code === 15);
      expect(ede?.data?.readUInt16BE(0)).toBe(18); // Prohibited, as for every residency refusal
      expect(ede?.data?.subarray(2).toString('utf8')).toMatch(/primary us-east-1 .* outside the EU/);
      expect(await dnsA('write-ledger.example.com', '4.2.2.0/24')).toEqual([ADDRESS['us-east-1']]);

      const post = await redirect('post', 'ledger.example.com');
      expect([post.status, post.body.reason]).toEqual([503, 'residency-primary-outside-eu']);
      expect((await redirect('post', 'ledger.example.com', KANSAS)).headers['x-georoute-region']).toBe('us-east-1');
      const read = await redirect('get', 'ledger.example.com');
      expect([read.status, read.headers['x-georoute-region']]).toEqual([307, 'eu-central-1']);
      const e = await explain('ledger.example.com', HANOVER, '&access=write');
      expect([e.reason, e.answer.rcode]).toEqual(['residency-primary-outside-eu', 'SERVFAIL']);
    });

    it('active-active: reads and writes go to the nearest healthy region, and explain names the conflict resolution', async () => {
      const e = await explain('aa.example.com', HANOVER, '&access=write');
      expect([e.answer.region, e.access, e.replication.mode, e.replication.conflictResolution]).toEqual(['eu-central-1', 'write', 'active-active', 'crdt']);
      expect(e.detail).toMatch(/conflicts resolved by crdt/);
      expect(e.candidates.every((c: { role: string }) => c.role === 'peer')).toBe(true);
      expect((await redirect('post', 'aa.example.com')).headers['x-georoute-region']).toBe('eu-central-1');
      expect((await redirect('post', 'aa.example.com', KANSAS)).headers['x-georoute-region']).toBe('us-east-1');
      expect(await dnsA('w.aa.example.com')).toEqual([ADDRESS['eu-central-1']]);
      expect(await dnsA('w.aa.example.com', '4.2.2.0/24')).toEqual([ADDRESS['us-east-1']]);
      const conflict = await app.api('post', '/v1/services/aa.example.com/promote', { region: 'eu-west-1' });
      expect(conflict.status).toBe(409);
    });
  });

  describe('validation: 400 naming the field, nothing changed', () => {
    const base = { fqdn: 'new.example.com', regions: ['eu-west-1', 'eu-central-1'] };
    // [title, replication object, field named, whether a PATCH of aa.example.com with it is refused too]
    const cases: [string, Record<string, unknown>, string, boolean?][] = [
      ['a primary that is not a service region', { mode: 'active-passive', primary: 'eu-north-1' }, 'replication.primary'],
      ['active-passive without a primary', { mode: 'active-passive' }, 'replication.primary'],
      ['active-active without a conflict resolution', { mode: 'active-active' }, 'replication.conflictResolution'],
      ['an unknown conflict resolution', { mode: 'active-active', conflictResolution: 'hope' }, 'replication.conflictResolution'],
      ['conflictResolution on active-passive', { mode: 'active-passive', primary: 'eu-west-1', conflictResolution: 'crdt' }, 'replication.conflictResolution'],
      ['a primary on active-active', { mode: 'active-active', conflictResolution: 'crdt', primary: 'eu-west-1' }, 'replication.primary'],
      ['an unknown mode', { mode: 'multi-master' }, 'replication.mode'],
      ['an unknown field', { mode: 'active-passive', primary: 'eu-west-1', quorum: 2 }, 'replication.quorum'],
      ['a negative maxStalenessMs', { mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: -1 }, 'replication.maxStalenessMs'],
      ['a fractional promotionDelaySeconds', { mode: 'active-passive', primary: 'eu-west-1', promotionDelaySeconds: 1.5 }, 'replication.promotionDelaySeconds'],
      ['an unknown promotion', { mode: 'active-passive', primary: 'eu-west-1', promotion: 'sometimes' }, 'replication.promotion'],
      ['a write name outside the zone', { mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'write.example.org' }, 'replication.writeFqdn'],
      ['a write name that is a service', { mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'db.example.com' }, 'replication.writeFqdn'],
      ['a write name taken by another service', { mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'write.db.example.com' }, 'replication.writeFqdn'],
      ['a write name equal to the service', { mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'new.example.com' }, 'replication.writeFqdn', false],
      ['a malformed write name', { mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'a..example.com' }, 'replication.writeFqdn'],
      ['a notifyUrl that is not http(s)', { mode: 'active-passive', primary: 'eu-west-1', notifyUrl: 'ftp://ops.example.com/x', notifySecret: NOTIFY_SECRET }, 'replication.notifyUrl'],
      ['a notifyUrl without a secret', { mode: 'active-passive', primary: 'eu-west-1', notifyUrl: 'https://ops.example.com/x' }, 'replication.notifySecret'],
      ['a short notifySecret', { mode: 'active-passive', primary: 'eu-west-1', notifyUrl: 'https://ops.example.com/x', notifySecret: 'short-secret-123456' }, 'replication.notifySecret'],
      ['fields with mode none', { mode: 'none', primary: 'eu-west-1' }, 'replication.primary'],
    ];
    it.each(cases)('%s', async (_title, replicationBody, field, patchToo = true) => {
      const before = await dumpRegistry(app.ds);
      const res = await app.api('post', '/v1/services', { ...base, replication: replicationBody });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.detail).toContain(field);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      if (patchToo) expect((await app.api('patch', '/v1/services/aa.example.com', { replication: replicationBody })).status).toBe(400);
      expect(await dumpRegistry(app.ds)).toEqual(before);
    });

    it('a service cannot take a name that is another service\'s write name (409), nor a region that is a primary leave the service (400)', async () => {
      expect((await app.api('post', '/v1/services', { fqdn: 'write.db.example.com', regions: ['eu-west-1'] })).status).toBe(409);
      const res = await app.api('patch', '/v1/services/db.example.com', { regions: ['eu-west-1', 'eu-central-1', 'us-east-1'] });
      expect([res.status, res.body.errors?.[0]?.field]).toEqual([400, 'replication.primary']);
    });
  });
});

// Several instances deciding at once: only a PostgreSQL server shows it (PGlite is one backend in
// this process); CI runs this with DATABASE_URL set.
if (process.env.DATABASE_URL) {
  describe('two instances on one database: exactly one promotion', () => {
    let db: TestDatabase;
    const apps: TestApp[] = [];
    const operator = operatorEndpoint();

    afterAll(async () => {
      for (const a of apps) await a.stop();
      await db?.drop();
      await operator.close();
    });

    it('both see the primary fail; one promotes, one notification is sent', async () => {
      const url = `http://127.0.0.1:${await operator.listen()}/hook`;
      db = await createTestDatabase();
      const fs = await import('node:fs');
      const os = await import('node:os');
      const path = await import('node:path');
      for (const id of ['georoute-a', 'georoute-b']) {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `georoute-${id}-`));
        apps.push(await startTestApp({ ...db, env: { ...db.env, DATA_DIR: dataDir } }, { WEBHOOK_SECRET, INSTANCE_ID: id }));
      }
      const [a, b] = apps;
      expect((await a.api('post', '/v1/zones', { name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' })).status).toBe(201);
      for (const r of REGIONS) expect((await a.api('post', '/v1/regions', r)).status).toBe(201);
      const created = await a.api('post', '/v1/services', {
        fqdn: 'db.example.com',
        regions: ['eu-west-1', 'eu-central-1', 'eu-north-1'],
        replication: { mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: 1000, promotion: 'automatic', promotionDelaySeconds: 1, notifyUrl: url, notifySecret: NOTIFY_SECRET },
      });
      expect(created.status).toBe(201);
      const send = async (app: TestApp, body: unknown) => {
        const w = signed(body);
        return app.http.post('/v1/health/webhook').set(w.headers).send(w.raw);
      };
      // Lag reaches instance a only; b reads it from the database.
      for (const [region, ms] of [['eu-central-1', 300], ['eu-north-1', 100]] as const) {
        for (const app of [a, b]) expect((await send(app, { region, status: 'healthy', ...(app === a ? { metrics: { replicationLagMs: ms } } : {}) })).status).toBe(202);
      }
      await waitFor('b to know the lag', async () => (await b.api('get', '/v1/services/db.example.com/replication')).body.regions[2].lagMs === 100, 5000, 50);
      for (const app of [a, b]) expect((await send(app, { region: 'eu-west-1', status: 'unhealthy', reason: 'primary database down' })).status).toBe(202);
      for (const app of [a, b]) {
        await waitFor('the promotion', async () => (await app.api('get', '/v1/services/db.example.com/replication')).body.primary === 'eu-north-1', 8000, 50);
      }
      await new Promise((r) => setTimeout(r, 1500));
      const rows = await a.ds.query('SELECT instance FROM replication_promotions');
      expect(rows).toHaveLength(1);
      expect(operator.received).toHaveLength(1);
      expect(verifyWebhook(operator.received[0].raw, operator.received[0].headers, [NOTIFY_SECRET], Date.now()).ok).toBe(true);
    });

    it('two instances promoting at the same moment: the conditional update lets exactly one through', async () => {
      const { PromotionService } = await import('../src/replication/promotion.service');
      const request = { fqdn: 'db.example.com', from: 'eu-north-1', to: 'eu-central-1', trigger: 'manual' as const, forced: true, dataLossWindowMs: 300, reason: 'race test' };
      const outcomes = await Promise.all(apps.map((app) => app.running.app.get(PromotionService).promote(request)));
      expect(outcomes.filter((o) => o !== null)).toHaveLength(1);
      expect(await apps[0].ds.query('SELECT to_region FROM replication_promotions ORDER BY id')).toEqual([{ to_region: 'eu-north-1' }, { to_region: 'eu-central-1' }]);
      await waitFor('the second notification', async () => operator.received.length === 2, 5000, 20);
      await new Promise((r) => setTimeout(r, 300));
      expect(operator.received).toHaveLength(2);
    });
  });
}
