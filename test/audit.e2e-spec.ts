import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { Writable } from 'node:stream';
import { PinoLogger } from '../src/common/pino-logger';
import { signWebhook } from '../src/health/webhook-verifier';
import { parseToken } from '../src/tokens/token-secret';
import { waitFor } from './support/dns-client';
import { mutatingRoutes } from './support/routes';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';

const WEBHOOK_SECRET = 'audit-webhook-secret-0123456789abcdef';
const NOTIFY_SECRET = 'audit-notify-secret-0123456789abcdef';
/** The zone as the config apply step leaves it, with ftp instead of mail. */
const ZONE_FILE = ['$ORIGIN audit.example.', '$TTL 600', '@ 600 IN SOA ns1.example.com. hostmaster.example.com. ( 1 3600 600 604800 300 )', '@ 600 IN NS ns1.example.com.', 'ftp 300 IN A 192.0.2.81', ''].join('\n');
const TOPOLOGY = { ases: [{ asn: 1, latitude: 40.7, longitude: -74 }, { asn: 2, latitude: 50.1, longitude: 8.7 }], links: [{ a: 1, b: 2, relation: 'peer' }] };

interface Entry {
  id: string;
  at: string;
  actor: string;
  tokenId: string | null;
  address: string | null;
  route: string | null;
  action: string;
  kind: string;
  name: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('audit trail', () => {
  let db: TestDatabase;
  let app: TestApp;
  let token = '';
  let tokenId = '';
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const auditLogs = () => logLines.filter((l) => l.includes('"context":"audit"')).map((l) => JSON.parse(l).msg as string);
  const as = (method: 'post' | 'patch' | 'put' | 'delete', url: string, body?: object) => app.http[method](url).set('Authorization', `Bearer ${token}`).send(body);
  const newest = async (n: number): Promise<Entry[]> => (await app.api('get', `/v1/audit?limit=${n}`)).body.items;
  const count = async (): Promise<number> => Number((await app.ds.query('SELECT count(*)::int AS n FROM audit_log'))[0].n);

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', LOG_LEVEL: 'info' }, new PinoLogger('info', 'audit-test', sink));
    const created = await app.api('post', '/v1/tokens', { name: 'oncall-alice', scopes: ['write'] });
    [token, tokenId] = [created.body.token, created.body.id];
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('the start-up seed and the token creation are recorded (system, then admin)', async () => {
    const seeded: Entry[] = (await app.api('get', '/v1/audit?token=system&kind=region&limit=500')).body.items;
    expect(seeded.map((e) => e.name).sort()).toEqual(['ap-northeast-1', 'eu-central-1', 'eu-west-1', 'sa-east-1', 'us-east-1', 'us-west-2']);
    expect(seeded[0]).toMatchObject({ actor: 'system', address: null, route: null, action: 'create' });
    const [made] = await newest(1);
    expect(made).toMatchObject({ actor: 'admin', tokenId: null, route: 'POST /v1/tokens', address: '127.0.0.0/24', action: 'create', kind: 'token', name: 'oncall-alice', before: null });
    expect(made.after).toMatchObject({ name: 'oncall-alice', scopes: ['write'], active: true });
    expect(made.after).not.toHaveProperty('token');
    expect(JSON.stringify(made)).not.toContain(parseToken(token)!.secret);
  });

  it('every mutating route records who changed what, before and after, secrets hidden, with one log line each', async () => {
    const covered = new Set<string>(['POST /v1/tokens']);
    // A tool's token that may only report health (POST /v1/regions/{name}/report).
    const reporter = (await app.api('post', '/v1/tokens', { name: 'region-agent', scopes: ['health:report'] })).body.token as string;
    let recordId = '';
    let endpointId = '';
    const steps: [string, () => Promise<{ status: number }>, { action: string; kind: string; name: string }[]][] = [
      ['POST /v1/zones', () => as('post', '/v1/zones', { name: 'audit.example', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' }), [{ action: 'create', kind: 'zone', name: 'audit.example' }]],
      ['PATCH /v1/zones/:name', () => as('patch', '/v1/zones/audit.example', { ttl: 600 }), [{ action: 'update', kind: 'zone', name: 'audit.example' }]],
      ['POST /v1/zones/:name/records', async () => {
        const res = await as('post', '/v1/zones/audit.example/records', { name: 'www', type: 'A', values: ['192.0.2.80'] });
        recordId = res.body.id;
        return res;
      }, [{ action: 'create', kind: 'record', name: 'www A in audit.example' }]],
      ['DELETE /v1/zones/:name/records/:id', () => as('delete', `/v1/zones/audit.example/records/${recordId}`), [{ action: 'delete', kind: 'record', name: 'www A in audit.example' }]],
      ['POST /v1/regions', () => as('post', '/v1/regions', { name: 'eu-north-1', countryCode: 'SE', location: { latitude: 59.33, longitude: 18.07 }, endpoints: { ipv4: ['198.51.100.30'] }, webhookSecret: WEBHOOK_SECRET }), [{ action: 'create', kind: 'region', name: 'eu-north-1' }]],
      ['PATCH /v1/regions/:name', () => as('patch', '/v1/regions/eu-north-1', { weight: 50 }), [{ action: 'update', kind: 'region', name: 'eu-north-1' }]],
      ['POST /v1/services', () => as('post', '/v1/services', { fqdn: 'app.audit.example', regions: ['eu-north-1', 'eu-west-1'] }), [{ action: 'create', kind: 'service', name: 'app.audit.example' }]],
      ['PATCH /v1/services/:fqdn', () => as('patch', '/v1/services/app.audit.example', { replication: { mode: 'active-passive', primary: 'eu-west-1', notifyUrl: 'https://ops.example.net/hook', notifySecret: 'notify-secret-0123456789abcdef' } }), [{ action: 'update', kind: 'service', name: 'app.audit.example' }]],
      ['POST /v1/measurements/beacon-keys', () => as('post', '/v1/measurements/beacon-keys', { service: 'app.audit.example', probePath: '/probe', sampleRate: 0.2 }), [{ action: 'create', kind: 'beacon-key', name: 'app.audit.example' }]],
      ['POST /v1/services/:fqdn/promote', () => as('post', '/v1/services/app.audit.example/promote', { region: 'eu-north-1', force: true }), [{ action: 'promote', kind: 'service', name: 'app.audit.example' }]],
      ['POST /v1/health/webhook', async () => {
        const raw = JSON.stringify({ region: 'eu-north-1', status: 'unhealthy', reason: 'disk full' });
        const id = `msg_${randomUUID()}`;
        const ts = Math.floor(Date.now() / 1000);
        return app.http.post('/v1/health/webhook').set({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(WEBHOOK_SECRET, id, ts, raw) }).send(raw);
      }, [{ action: 'transition', kind: 'region-health', name: 'eu-north-1' }]],
      ['POST /v1/regions/:name/report', () => app.http.post('/v1/regions/eu-north-1/report').set('Authorization', `Bearer ${reporter}`).send({ status: 'healthy', reason: 'disk cleaned' }),
        [{ action: 'transition', kind: 'region-health', name: 'eu-north-1' }]],
      ['PUT /v1/anycast/topology', () => app.http.put('/v1/anycast/topology').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(JSON.stringify(TOPOLOGY)), [{ action: 'replace', kind: 'anycast-topology', name: 'topology' }]],
      ['DELETE /v1/services/:fqdn', () => as('delete', '/v1/services/app.audit.example'), [{ action: 'delete', kind: 'service', name: 'app.audit.example' }]],
      ['DELETE /v1/regions/:name', () => as('delete', '/v1/regions/eu-north-1'), [{ action: 'delete', kind: 'region', name: 'eu-north-1' }]],
      ['POST /v1/config/apply', () => as('post', '/v1/config/apply', { zones: [{ name: 'audit.example', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com', ttl: 600, records: [{ name: 'mail', type: 'MX', values: ['10 mx.example.net'] }] }] }), [{ action: 'create', kind: 'record', name: 'mail MX in audit.example' }]],
      ['POST /v1/zones/:name/import', () => app.http.post('/v1/zones/audit.example/import').set('Authorization', `Bearer ${token}`).set('Content-Type', 'text/dns').send(ZONE_FILE),
        [{ action: 'create', kind: 'record', name: 'ftp A in audit.example' }, { action: 'delete', kind: 'record', name: 'mail MX in audit.example' }]],
      ['POST /v1/zones/:name/dnssec', () => as('post', '/v1/zones/audit.example/dnssec', {}), [{ action: 'create', kind: 'dnssec', name: 'audit.example' }]],
      ['POST /v1/zones/:name/dnssec/rollover', () => as('post', '/v1/zones/audit.example/dnssec/rollover', {}), [{ action: 'update', kind: 'dnssec', name: 'audit.example' }]],
      ['DELETE /v1/zones/:name/dnssec', () => as('delete', '/v1/zones/audit.example/dnssec'), [{ action: 'update', kind: 'dnssec', name: 'audit.example' }]],
      ['DELETE /v1/zones/:name', () => as('delete', '/v1/zones/audit.example'), [{ action: 'delete', kind: 'zone', name: 'audit.example' }, { action: 'delete', kind: 'record', name: 'ftp A in audit.example' }]],
      ['POST /v1/notifications', async () => {
        const res = await as('post', '/v1/notifications', { url: 'https://ops.example.net/hooks/georoute', secret: NOTIFY_SECRET, events: ['region.unhealthy'] });
        endpointId = res.body.id;
        return res;
      }, [{ action: 'create', kind: 'notification-endpoint', name: '(endpoint)' }]],
      ['POST /v1/notifications/:id/test', () => as('post', `/v1/notifications/${endpointId}/test`), [{ action: 'test', kind: 'notification-endpoint', name: '(endpoint)' }]],
      ['DELETE /v1/notifications/:id', () => as('delete', `/v1/notifications/${endpointId}`), [{ action: 'delete', kind: 'notification-endpoint', name: '(endpoint)' }]],
      ['DELETE /v1/tokens/:id', () => app.api('delete', `/v1/tokens/${tokenId}`), [{ action: 'revoke', kind: 'token', name: 'oncall-alice' }]],
    ];
    for (const [route, run, expectedAs] of steps) {
      const logsBefore = auditLogs().length;
      const res = await run();
      const expected = expectedAs.map((x) => ({ ...x, name: x.name === '(endpoint)' ? endpointId : x.name }));
      expect({ route, status: res.status < 300 }).toEqual({ route, status: true });
      const entries = await newest(expected.length);
      expect({ route, entries: entries.map((e) => ({ action: e.action, kind: e.kind, name: e.name })) }).toEqual({ route, entries: expected });
      const actor = route === 'POST /v1/health/webhook' ? 'signed-webhook' : route === 'DELETE /v1/tokens/:id' ? 'admin' : route === 'POST /v1/regions/:name/report' ? 'region-agent' : 'oncall-alice';
      for (const e of entries) expect({ route, actor: e.actor, route2: e.route, address: e.address }).toEqual({ route, actor, route2: route, address: '127.0.0.0/24' });
      // The log lines are written after the response has finished, in background turns that let
      // requests in progress go first: wait for as many as expected, then compare them.
      await waitFor(`${route}: ${expected.length} audit log lines`, async () => auditLogs().length - logsBefore >= expected.length, 5000, 10).catch(() => undefined);
      expect({ route, logs: auditLogs().slice(logsBefore) }).toEqual({ route, logs: [...expected].reverse().map((x) => `${x.action} ${x.kind} ${x.name} by ${actor} from 127.0.0.0/24 (${route})`) });
      covered.add(route);
    }
    // Every mutating route of the application is covered above.
    expect([...covered].sort()).toEqual(mutatingRoutes(app));

    const all: Entry[] = (await app.api('get', '/v1/audit?limit=500')).body.items;
    const one = (action: string, kind: string, name: string) => all.find((e) => e.action === action && e.kind === kind && e.name === name)!;
    expect(one('update', 'region', 'eu-north-1')).toMatchObject({ before: { weight: 100, webhookSecret: '(hidden)' }, after: { weight: 50, webhookSecret: '(hidden)' }, tokenId });
    expect(one('update', 'service', 'app.audit.example').after).toMatchObject({ replication: { mode: 'active-passive', primary: 'eu-west-1', notifySecret: '(hidden)' } });
    expect(one('promote', 'service', 'app.audit.example')).toMatchObject({ before: { primary: 'eu-west-1' }, after: { primary: 'eu-north-1', forced: true, trigger: 'manual' } });
    const transitions = all.filter((e) => e.action === 'transition' && e.kind === 'region-health' && e.name === 'eu-north-1');
    expect(transitions.find((e) => e.actor === 'signed-webhook')).toMatchObject({ after: { status: 'unhealthy', source: 'webhook' } });
    expect(transitions.find((e) => e.actor === 'region-agent')).toMatchObject({ route: 'POST /v1/regions/:name/report', after: { status: 'healthy' } });
    expect(one('delete', 'region', 'eu-north-1')).toMatchObject({ before: { name: 'eu-north-1', countryCode: 'SE' }, after: null });
    const dump = JSON.stringify(all);
    for (const secret of [WEBHOOK_SECRET, NOTIFY_SECRET, 'notify-secret-0123456789abcdef', parseToken(token)!.secret]) expect(dump).not.toContain(secret);
  });

  it('a refused request and a dry run record nothing and log nothing', async () => {
    const [entries, logs] = [await count(), auditLogs().length];
    const refused = [
      await app.api('post', '/v1/regions', { name: 'bad', countryCode: 'XX' }), // 400
      await app.api('patch', '/v1/regions/nowhere-1', { drained: true }), // 404
      await app.api('delete', '/v1/regions/eu-west-1'), // 409: in use
      await app.http.patch('/v1/regions/eu-west-1').set('Authorization', `Bearer ${token}`).send({ drained: true }), // 401: revoked
      await app.api('post', '/v1/config/apply?prune=true', {}), // 409: destroy guard
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 404, 409, 401, 409]);
    // A dry run executes the changes (and their audit entries) and rolls them all back.
    const dry = await app.api('post', '/v1/config/apply?dryRun=true', { regions: [{ name: 'eu-south-1', countryCode: 'IT', location: { latitude: 45.46, longitude: 9.19 }, endpoints: { ipv4: ['198.51.100.50'] } }] });
    expect([dry.status, dry.body.changes.length]).toEqual([200, 1]);
    await new Promise((r) => setTimeout(r, 20));
    expect([await count(), auditLogs().length]).toEqual([entries, logs]);
  });

  it('a probe a request scheduled is not that request: its transition is the system\'s', async () => {
    const down = http.createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (down.address() as { port: number }).port;
      const patched = await app.api('patch', '/v1/regions/us-west-2', { healthCheck: { type: 'http', target: `http://127.0.0.1:${port}/health`, intervalSeconds: 1, timeoutMs: 500, unhealthyThreshold: 1 } });
      expect(patched.status).toBe(200);
      const entry = await waitFor('the probe transition', async () => ((await app.api('get', '/v1/audit?kind=region-health&name=us-west-2')).body.items as Entry[])[0], 8000, 100);
      expect(entry).toMatchObject({ actor: 'system', tokenId: null, address: null, route: null, action: 'transition', after: { status: 'unhealthy', source: 'probe' } });
      expect(auditLogs()).toContain('transition region-health us-west-2 by system');
      expect((await app.api('patch', '/v1/regions/us-west-2', { healthCheck: null })).status).toBe(200);
    } finally {
      down.close();
    }
  });

  it('pages newest first and filters by object, token and time', async () => {
    const first = await app.api('get', '/v1/audit?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const second = await app.api('get', `/v1/audit?limit=2&cursor=${first.body.nextCursor}`);
    expect(Number(second.body.items[0].id)).toBeLessThan(Number(first.body.items[1].id));
    const byObject: Entry[] = (await app.api('get', '/v1/audit?kind=region&name=eu-north-1')).body.items;
    expect(byObject.map((e) => e.action)).toEqual(['delete', 'update', 'create']);
    const byToken: Entry[] = (await app.api('get', '/v1/audit?token=oncall-alice&limit=500')).body.items;
    expect(byToken.length).toBeGreaterThanOrEqual(14);
    expect(new Set(byToken.map((e) => e.actor))).toEqual(new Set(['oncall-alice']));
    const since = byObject[1].at;
    const window: Entry[] = (await app.api('get', `/v1/audit?kind=region&name=eu-north-1&since=${encodeURIComponent(since)}&until=${encodeURIComponent(byObject[0].at)}`)).body.items;
    expect(window.map((e) => e.action)).toEqual(['update']);
    expect((await app.api('get', '/v1/audit?since=yesterday')).status).toBe(400);
    expect((await app.api('get', '/v1/audit?object=x')).status).toBe(400);
  });
});
