import { randomUUID } from 'node:crypto';
import { signWebhook } from '../src/health/webhook-verifier';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';

/** The same small world as test/fixtures/bgp/withdrawal.json, as CAIDA serial-1 text with ASes 1-21. */
const CAIDA = `# tier-1 AS 1 with two transit customers
1|10|-1
1|20|-1
10|11|-1
20|21|-1
10|12|-1
20|12|-1
`;
const SECRET = 'whsec_' + Buffer.from('anycast-test-secret-0123456789ab').toString('base64');

describe('anycast API', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
    expect((await app.api('patch', '/v1/regions/eu-central-1', { anycast: { originAsn: 64500, upstreams: [10] }, webhookSecret: SECRET })).status).toBe(200);
    expect((await app.api('patch', '/v1/regions/us-east-1', { anycast: { originAsn: 64500, upstreams: [20] } })).status).toBe(200);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('answers 409 before a topology is loaded', async () => {
    expect((await app.api('get', '/v1/anycast/topology')).body).toEqual({ loaded: false });
    expect((await app.api('post', '/v1/anycast/simulate', {})).status).toBe(409);
  });

  it('refuses bad topologies with a 400 naming the line, and keeps nothing', async () => {
    const cases: [string, string, string][] = [
      ['1|2|-1\n2|3|7\n', 'line 2', 'relation'],
      ['1|1|0\n', 'line 1', 'self'],
      ['1|2|-1\n2|3|-1\n3|1|-1\n', '', 'cycle'],
      ['1|x|-1\n', 'line 1', 'ASN'],
    ];
    for (const [text, where, word] of cases) {
      const res = await app.api('put', '/v1/anycast/topology').set('Content-Type', 'text/plain').send(text);
      expect(res.status).toBe(400);
      expect(res.body.detail).toContain(where);
      expect(res.body.detail.toLowerCase()).toContain(word.toLowerCase());
    }
    const json = await app.api('put', '/v1/anycast/topology').set('Content-Type', 'application/json').send(JSON.stringify({ ases: [], links: [{ a: 1, b: 2, relation: 'sibling' }] }));
    expect(json.status).toBe(400);
    expect(json.body.detail).toContain('links[0]');
    expect((await app.api('get', '/v1/anycast/topology')).body.loaded).toBe(false);
  });

  it('loads CAIDA text and summarises it', async () => {
    const res = await app.api('put', '/v1/anycast/topology').set('Content-Type', 'text/plain').send(CAIDA);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ loaded: true, format: 'caida', summary: { ases: 6, links: 6, providerCustomerLinks: 6, peerLinks: 0, tier1: [1] } });
    expect((await app.api('get', '/v1/anycast/topology')).body.summary.ases).toBe(6);
  });

  it('simulates catchments, routes with reasons, and what-if withdrawals', async () => {
    const res = await app.api('post', '/v1/anycast/simulate', { clients: [1, 12, 21] });
    expect(res.status).toBe(200);
    expect(res.body.sites).toEqual([
      { region: 'eu-central-1', originAsn: 64500, upstreams: [10], prepend: 0, announced: true },
      { region: 'us-east-1', originAsn: 64500, upstreams: [20], prepend: 0, announced: true },
    ]);
    expect(res.body.catchments['eu-central-1'].ases).toBe(4);
    expect(res.body.catchments['us-east-1'].ases).toBe(2);
    expect(res.body.routes).toEqual([
      { asn: 1, status: 'routed', region: 'eu-central-1', asPath: [10, 64500], reason: 'neighbor-asn', learnedFrom: 'customer' },
      { asn: 12, status: 'routed', region: 'eu-central-1', asPath: [10, 64500], reason: 'neighbor-asn', learnedFrom: 'provider' },
      { asn: 21, status: 'routed', region: 'us-east-1', asPath: [20, 64500], reason: 'only-route', learnedFrom: 'provider' },
    ]);
    expect(res.body.convergence.updates).toBeGreaterThan(0);
    const whatIf = await app.api('post', '/v1/anycast/simulate', { withdrawn: ['eu-central-1'] });
    expect(whatIf.body.catchments['us-east-1'].ases).toBe(6);
    expect(whatIf.body.withdrawn).toEqual(['eu-central-1']);
    const bad = await app.api('post', '/v1/anycast/simulate', { withdrawn: ['sa-east-1'], extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['extra']);
    expect((await app.api('post', '/v1/anycast/simulate', { withdrawn: ['sa-east-1'] })).status).toBe(400);
  });

  it('withdraws an unhealthy region (live health) and reports one AS route', async () => {
    expect((await app.api('get', '/v1/anycast/route?asn=12')).body).toMatchObject({ asn: 12, region: 'eu-central-1', reason: 'neighbor-asn' });
    const raw = JSON.stringify({ region: 'eu-central-1', status: 'unhealthy' });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const hook = await app.http.post('/v1/health/webhook').set({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, id, ts, raw) }).send(raw);
    expect(hook.status).toBe(202);
    const route = await app.api('get', '/v1/anycast/route?asn=12');
    expect(route.body).toMatchObject({ asn: 12, status: 'routed', region: 'us-east-1', asPath: [20, 64500], reason: 'as-path-length' });
    const sim = await app.api('post', '/v1/anycast/simulate', {});
    expect(sim.body.withdrawn).toEqual(['eu-central-1']);
    expect(sim.body.sites[0].announced).toBe(false);
    expect((await app.api('post', '/v1/anycast/simulate', { useHealth: false })).body.catchments['eu-central-1'].ases).toBe(4);
    expect((await app.api('get', '/v1/anycast/route?asn=999')).status).toBe(404);
    expect((await app.api('get', '/v1/anycast/route?asn=abc')).status).toBe(400);
  });

  it('keeps the topology across a restart', async () => {
    await app.stop();
    app = await startTestApp(db, { CONFIG_FILE: '' });
    expect((await app.api('get', '/v1/anycast/topology')).body).toMatchObject({ loaded: true, summary: { ases: 6 } });
  });
});
