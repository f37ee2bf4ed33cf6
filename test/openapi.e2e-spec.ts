import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { Response, Test } from 'supertest';
import { signWebhook } from '../src/health/webhook-verifier';
import { operations, OpenApiDocument, OpenApiOperation, OpenApiValidator } from './support/openapi';
import { createTestDatabase, startTestApp, TestApp, TestDatabase, TEST_TOKEN } from './support/test-app';

const WEBHOOK_SECRET = 'contract-webhook-secret-0123456789';
const NOTIFY_SECRET = 'contract-notify-secret-0123456789ab';
const PROBLEM_REF = '#/components/schemas/Problem';
/** Error answers that are not problem documents, by design: /readyz answers its checks with 503 for load balancers. */
const NOT_PROBLEMS = ['get /readyz 503'];
/** Errors the walk below does not provoke: /readyz 503 needs the database down (test/static-stability.e2e-spec.ts does that). */
const NOT_PROVOKED = ['GET /readyz'];
const ZONE_FILE = '$ORIGIN contract.example.\n$TTL 300\nwww IN A 192.0.2.80\nmail IN AAAA 2001:db8::25\n';
const CAIDA = '1|10|-1\n1|20|-1\n10|11|-1\n20|21|-1\n';

let db: TestDatabase;
let app: TestApp;
let doc: OpenApiDocument;
let hooks: http.Server;

/** A schema and everything it references, for the "untyped field" check. */
function resolve(schema: Record<string, unknown>): Record<string, unknown> {
  const ref = schema.$ref as string | undefined;
  if (!ref) return schema;
  return resolve((doc.components?.schemas ?? {})[ref.replace('#/components/schemas/', '')] as Record<string, unknown>);
}

/** Paths (like "CreateRegionDto.capacity") of fields typed `object` with nothing said about their members, or with no type at all. */
function untyped(schema: Record<string, unknown> | undefined, at: string, seen = new Set<string>()): string[] {
  if (!schema) return [];
  if (typeof schema.$ref === 'string') {
    if (seen.has(schema.$ref)) return [];
    seen.add(schema.$ref);
    return untyped(resolve(schema), schema.$ref.replace('#/components/schemas/', ''), seen);
  }
  const out: string[] = [];
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    const list = schema[key] as Record<string, unknown>[] | undefined;
    if (list) list.forEach((s, i) => out.push(...untyped(s, `${at}.${key}[${i}]`, seen)));
  }
  if (schema.allOf || schema.oneOf || schema.anyOf) return out;
  if (schema.type === undefined) out.push(`${at} (no type)`);
  if (schema.type === 'object' && !schema.properties && schema.additionalProperties === undefined) out.push(`${at} (object without properties)`);
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) out.push(...untyped(prop, `${at}.${name}`, seen));
  if (typeof schema.additionalProperties === 'object') out.push(...untyped(schema.additionalProperties as Record<string, unknown>, `${at}[*]`, seen));
  if (schema.items) out.push(...untyped(schema.items as Record<string, unknown>, `${at}[]`, seen));
  return out;
}

describe('OpenAPI document: the contract', () => {
  beforeAll(async () => {
    hooks = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', WEBHOOK_SECRET });
    const res = await app.http.get('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApiDocument;
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    await new Promise<void>((r) => (hooks ? hooks.close(() => r()) : r()));
  });

  const each = (check: (method: string, path: string, op: OpenApiOperation) => string[]) => operations(doc).flatMap(([m, p, op]) => check(m, p, op).map((s) => `${m.toUpperCase()} ${p}: ${s}`));

  it('lists every route the application serves', () => {
    expect(operations(doc).length).toBeGreaterThanOrEqual(50);
  });

  it('is a valid OpenAPI 3.0 document (what client generators read)', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('gives every operation a summary, a success response with a schema and an example', () => {
    expect(
      each((_m, _p, op) => {
        const problems: string[] = [];
        if (!op.summary || op.summary.trim().length < 8) problems.push('no summary');
        const ok = Object.entries(op.responses).filter(([s]) => /^2\d\d$/.test(s));
        if (ok.length === 0) problems.push('no success response');
        for (const [status, r] of ok) {
          if (status === '204') {
            if (r.content) problems.push('204 with a body');
            continue;
          }
          const media = Object.entries(r.content ?? {});
          if (media.length === 0) problems.push(`${status} without content`);
          for (const [type, m] of media) {
            if (!m.schema) problems.push(`${status} ${type} without schema`);
            if (m.example === undefined && m.examples === undefined) problems.push(`${status} ${type} without example`);
          }
        }
        return problems;
      }),
    ).toEqual([]);
  });

  it('answers every error status with the one problem document schema', () => {
    expect(
      each((m, p, op) => {
        const problems: string[] = [];
        const errors = Object.keys(op.responses).filter((s) => /^[45]\d\d$/.test(s) && !NOT_PROBLEMS.includes(`${m} ${p} ${s}`));
        for (const status of errors) {
          const schema = op.responses[status].content?.['application/problem+json']?.schema;
          if (schema?.$ref !== PROBLEM_REF) problems.push(`${status} is not application/problem+json ${PROBLEM_REF}`);
        }
        return problems;
      }),
    ).toEqual([]);
    const problem = doc.components?.schemas?.Problem as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(problem.properties)).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'code', 'errors']));
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance']));
  });

  it('declares bearer security on every route but the public ones, and 401/403 where it applies', () => {
    const publicOps = ['get /healthz', 'get /readyz', 'get /metrics', 'post /v1/health/webhook', 'get /beacon.js', 'get /v1/measurements/beacon', 'post /v1/measurements/beacon'];
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(
      each((m, p, op) => {
        const isPublic = publicOps.includes(`${m} ${p}`);
        const bearer = (op.security ?? []).some((s) => 'bearer' in s);
        if (isPublic) return bearer ? ['public route declares bearer security'] : [];
        return [...(bearer ? [] : ['no bearer security']), ...['401', '403'].filter((s) => !op.responses[s]).map((s) => `no ${s}`)];
      }),
    ).toEqual([]);
  });

  it('declares every path parameter, and types every field, parameter and body', () => {
    expect(
      each((m, p, op) => {
        const problems: string[] = [];
        for (const name of [...p.matchAll(/\{([^}]+)\}/g)].map((x) => x[1])) {
          const param = op.parameters?.find((x) => x.in === 'path' && x.name === name);
          if (!param?.required) problems.push(`path parameter ${name} not declared as required`);
        }
        for (const param of op.parameters ?? []) if (!param.schema?.type && !param.schema?.$ref) problems.push(`parameter ${param.name} has no type`);
        if (['post', 'put', 'patch'].includes(m) && !op.requestBody && !['/v1/notifications/{id}/test'].includes(p)) problems.push('no request body');
        for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
          if (!media.schema) problems.push(`request ${type} has no schema`);
          else problems.push(...untyped(media.schema, `request ${type}`));
        }
        for (const [status, r] of Object.entries(op.responses)) {
          for (const [type, media] of Object.entries(r.content ?? {})) if (type.endsWith('json')) problems.push(...untyped(media.schema, `${status} ${type}`));
        }
        return problems;
      }),
    ).toEqual([]);
  });

  it('declares the paging parameters on every list and the signed webhook headers', () => {
    const lists = operations(doc).filter(([m, , op]) => m === 'get' && JSON.stringify(op.responses['200']?.content ?? {}).includes('nextCursor'));
    expect(lists.length).toBeGreaterThanOrEqual(9);
    for (const [m, p, op] of lists) expect([`${m} ${p}`, (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name)]).toEqual([`${m} ${p}`, expect.arrayContaining(['limit', 'cursor'])]);
    const webhook = doc.paths['/v1/health/webhook'].post;
    expect((webhook.parameters ?? []).filter((x) => x.in === 'header' && x.required).map((x) => x.name).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
  });

  it('the validator refuses answers that break the document', () => {
    const v = new OpenApiValidator(doc);
    const zone = { name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com', ttl: 3600, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 300, serial: 1, createdAt: '2026-12-06T01:48:28.468Z', updatedAt: '2026-12-06T01:48:28.468Z' };
    const json = 'application/json; charset=utf-8';
    expect(v.validate('get', '/v1/zones/{name}', 200, zone, json)).toEqual([]);
    expect(v.validate('get', '/v1/zones/{name}', 200, { ...zone, serial: '1' }, json).join()).toMatch(/serial must be integer/);
    expect(v.validate('get', '/v1/zones/{name}', 200, { ...zone, undocumented: true }, json).join()).toMatch(/additional properties/);
    expect(v.validate('get', '/v1/zones/{name}', 200, { ...zone, createdAt: 'yesterday' }, json).join()).toMatch(/format/);
    expect(v.validate('get', '/v1/zones/{name}', 418, zone, json).join()).toMatch(/does not declare status 418/);
    expect(v.validate('get', '/v1/zones/{name}', 200, zone, 'text/html').join()).toMatch(/not text\/html/);
    expect(v.validate('get', '/v1/zones/{name}', 404, { type: 'about:blank', title: 'Not Found', status: 404, instance: '/v1/zones/x' }, 'application/problem+json').join()).toMatch(/detail/);
  });

  describe('real answers conform to it', () => {
    let validator: OpenApiValidator;
    const seen = new Map<string, Set<string>>();
    const auth = (t: Test) => t.set('Authorization', `Bearer ${TEST_TOKEN}`);

    /** Sends one request, expects `status`, and validates the answer against the operation `op` ("GET /v1/zones/{name}"). */
    async function call(op: string, status: number, send: Test): Promise<Response> {
      const res = await send;
      const [method, path] = op.split(' ');
      const body = /json/.test(res.type) ? res.body : res.text;
      expect([op, res.status]).toEqual([op, status]);
      expect([op, validator.validate(method, path, res.status, res.status === 204 ? undefined : body, res.status === 204 ? undefined : res.headers['content-type'])]).toEqual([op, []]);
      const outcomes = seen.get(op) ?? new Set<string>();
      outcomes.add(status < 400 ? 'success' : 'error');
      seen.set(op, outcomes);
      return res;
    }
    const api = (method: 'get' | 'post' | 'patch' | 'delete' | 'put', url: string) => auth(app.http[method](url));
    const signed = (body: unknown, secret = WEBHOOK_SECRET) => {
      const raw = JSON.stringify(body);
      const id = `msg_${randomUUID()}`;
      const ts = Math.floor(Date.now() / 1000);
      return app.http
        .post('/v1/health/webhook')
        .set({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, raw) })
        .send(raw);
    };

    beforeAll(() => {
      validator = new OpenApiValidator(doc);
    });

    it('ops routes', async () => {
      await call('GET /healthz', 200, app.http.get('/healthz'));
      await call('GET /readyz', 200, app.http.get('/readyz'));
      await call('GET /metrics', 200, app.http.get('/metrics'));
    });

    it('zones and records', async () => {
      const zone = { name: 'contract.example', nameservers: ['ns1.contract.example'], hostmaster: 'hostmaster.contract.example' };
      await call('POST /v1/zones', 201, api('post', '/v1/zones').send(zone));
      await call('POST /v1/zones', 409, api('post', '/v1/zones').send(zone));
      await call('POST /v1/zones', 400, api('post', '/v1/zones').send({ ...zone, name: 'bad name!' }));
      await call('GET /v1/zones', 200, api('get', '/v1/zones?limit=1'));
      await call('GET /v1/zones', 400, api('get', '/v1/zones?limit=0'));
      await call('GET /v1/zones/{name}', 200, api('get', '/v1/zones/contract.example'));
      await call('GET /v1/zones/{name}', 404, api('get', '/v1/zones/missing.example'));
      await call('PATCH /v1/zones/{name}', 200, api('patch', '/v1/zones/contract.example').send({ ttl: 600 }));
      await call('PATCH /v1/zones/{name}', 400, api('patch', '/v1/zones/contract.example').send({ ttl: 1 }));
      const record = await call('POST /v1/zones/{name}/records', 201, api('post', '/v1/zones/contract.example/records').send({ name: 'api', type: 'A', values: ['192.0.2.7'] }));
      await call('POST /v1/zones/{name}/records', 400, api('post', '/v1/zones/contract.example/records').send({ name: 'api', type: 'A', values: ['not-an-address'] }));
      await call('GET /v1/zones/{name}/records', 200, api('get', '/v1/zones/contract.example/records'));
      await call('GET /v1/zones/{name}/records', 404, api('get', '/v1/zones/missing.example/records'));
      await call('DELETE /v1/zones/{name}/records/{id}', 204, api('delete', `/v1/zones/contract.example/records/${record.body.id}`));
      await call('DELETE /v1/zones/{name}/records/{id}', 404, api('delete', `/v1/zones/contract.example/records/${record.body.id}`));
      await call('POST /v1/zones/{name}/import', 200, api('post', '/v1/zones/contract.example/import').set('Content-Type', 'text/dns').send(ZONE_FILE));
      await call('POST /v1/zones/{name}/import', 400, api('post', '/v1/zones/contract.example/import?dryRun=maybe').set('Content-Type', 'text/dns').send(ZONE_FILE));
      await call('GET /v1/zones/{name}/export', 200, api('get', '/v1/zones/contract.example/export'));
      await call('GET /v1/zones/{name}/export', 404, api('get', '/v1/zones/missing.example/export'));
      await call('GET /v1/zones/{name}/dnssec', 200, api('get', '/v1/zones/contract.example/dnssec'));
      await call('GET /v1/zones/{name}/dnssec', 404, api('get', '/v1/zones/missing.example/dnssec'));
      await call('DELETE /v1/zones/{name}/dnssec', 404, api('delete', '/v1/zones/contract.example/dnssec'));
      await call('POST /v1/zones/{name}/dnssec', 400, api('post', '/v1/zones/contract.example/dnssec').send({ algorithm: 8 }));
      await call('POST /v1/zones/{name}/dnssec', 404, api('post', '/v1/zones/missing.example/dnssec').send({}));
      await call('POST /v1/zones/{name}/dnssec', 201, api('post', '/v1/zones/contract.example/dnssec').send({ algorithm: 15, keys: 'ksk-zsk' }));
      await call('POST /v1/zones/{name}/dnssec', 409, api('post', '/v1/zones/contract.example/dnssec').send({}));
      await call('POST /v1/zones/{name}/dnssec/rollover', 200, api('post', '/v1/zones/contract.example/dnssec/rollover').send({}));
      await call('POST /v1/zones/{name}/dnssec/rollover', 409, api('post', '/v1/zones/contract.example/dnssec/rollover').send({}));
      await call('POST /v1/zones/{name}/dnssec/rollover', 400, api('post', '/v1/zones/contract.example/dnssec/rollover').send({ key: 'csk' }));
      await call('POST /v1/zones/{name}/dnssec/rollover', 404, api('post', '/v1/zones/missing.example/dnssec/rollover').send({}));
      await call('GET /v1/zones/{name}/dnssec', 200, api('get', '/v1/zones/contract.example/dnssec'));
      await call('DELETE /v1/zones/{name}/dnssec', 200, api('delete', '/v1/zones/contract.example/dnssec'));
      await call('DELETE /v1/zones/{name}', 204, api('delete', '/v1/zones/contract.example'));
      await call('DELETE /v1/zones/{name}', 404, api('delete', '/v1/zones/contract.example'));
    });

    it('regions, their health and the webhook', async () => {
      const region = { name: 'contract-1', countryCode: 'DE', location: { latitude: 50.1, longitude: 8.7 }, endpoints: { ipv4: ['192.0.2.90'] }, capacity: 100, heartbeatTimeoutSeconds: 60 };
      await call('POST /v1/regions', 201, api('post', '/v1/regions').send(region));
      await call('POST /v1/regions', 400, api('post', '/v1/regions').send({ ...region, name: 'contract-2', countryCode: 'XX' }));
      await call('GET /v1/regions', 200, api('get', '/v1/regions'));
      await call('GET /v1/regions', 400, api('get', '/v1/regions?cursor=%%%'));
      await call('GET /v1/regions/{name}', 200, api('get', '/v1/regions/contract-1'));
      await call('GET /v1/regions/{name}', 404, api('get', '/v1/regions/missing-1'));
      await call('PATCH /v1/regions/{name}', 200, api('patch', '/v1/regions/contract-1').send({ drained: true, capacity: null }));
      await call('PATCH /v1/regions/{name}', 400, api('patch', '/v1/regions/contract-1').send({ weight: -1 }));
      await call('GET /v1/regions/{name}/health', 200, api('get', '/v1/regions/eu-west-1/health'));
      await call('GET /v1/regions/{name}/health', 404, api('get', '/v1/regions/missing-1/health'));
      await call('POST /v1/health/webhook', 202, signed({ region: 'eu-west-1', status: 'healthy', reason: 'contract test' }));
      await call('POST /v1/health/webhook', 401, signed({ region: 'eu-west-1', status: 'healthy' }, 'not-the-secret-0123456789abcdef'));
      await call('POST /v1/regions/{name}/report', 202, api('post', '/v1/regions/eu-west-1/report').send({ status: 'healthy', reason: 'contract test (token)' }));
      await call('POST /v1/regions/{name}/report', 400, api('post', '/v1/regions/eu-west-1/report').send({ status: 'sick' }));
      await call('POST /v1/regions/{name}/report', 404, api('post', '/v1/regions/missing-1/report').send({ status: 'healthy' }));
      await call('GET /v1/health/events', 200, api('get', '/v1/health/events?region=eu-west-1&limit=5'));
      await call('GET /v1/health/events', 400, api('get', '/v1/health/events?cursor=abc'));
      await call('DELETE /v1/regions/{name}', 204, api('delete', '/v1/regions/contract-1'));
      await call('DELETE /v1/regions/{name}', 404, api('delete', '/v1/regions/contract-1'));
    });

    it('services, routing, replication and promotion', async () => {
      const service = { fqdn: 'db.example.com', policy: 'proximity', regions: ['eu-west-1', 'eu-central-1'], replication: { mode: 'active-passive', primary: 'eu-west-1', promotion: 'manual' } };
      await call('POST /v1/services', 201, api('post', '/v1/services').send(service));
      await call('POST /v1/services', 400, api('post', '/v1/services').send({ ...service, fqdn: 'db2.example.com', policy: 'nearest' }));
      await call('GET /v1/services', 200, api('get', '/v1/services'));
      await call('GET /v1/services', 400, api('get', '/v1/services?page=2'));
      await call('GET /v1/services/{fqdn}', 200, api('get', '/v1/services/db.example.com'));
      await call('GET /v1/services/{fqdn}', 404, api('get', '/v1/services/missing.example.com'));
      await call('PATCH /v1/services/{fqdn}', 200, api('patch', '/v1/services/db.example.com').send({ ttl: 45 }));
      await call('PATCH /v1/services/{fqdn}', 400, api('patch', '/v1/services/db.example.com').send({ ttl: 'soon' }));
      await call('GET /v1/route', 200, api('get', '/v1/route?fqdn=app.example.com&client=81.2.69.160'));
      await call('GET /v1/route', 400, api('get', '/v1/route?fqdn=app.example.com&client=not-an-ip'));
      await call('GET /v1/services/{fqdn}/replication', 200, api('get', '/v1/services/db.example.com/replication'));
      await call('GET /v1/services/{fqdn}/replication', 404, api('get', '/v1/services/missing.example.com/replication'));
      await call('POST /v1/services/{fqdn}/promote', 200, api('post', '/v1/services/db.example.com/promote').send({ region: 'eu-central-1', force: true }));
      await call('POST /v1/services/{fqdn}/promote', 400, api('post', '/v1/services/db.example.com/promote').send({ region: 42 }));
      await call('DELETE /v1/services/{fqdn}', 204, api('delete', '/v1/services/db.example.com'));
      await call('DELETE /v1/services/{fqdn}', 404, api('delete', '/v1/services/db.example.com'));
    });

    it('configuration as code', async () => {
      const exported = await call('GET /v1/config/export', 200, api('get', '/v1/config/export'));
      await call('GET /v1/config/export', 401, app.http.get('/v1/config/export'));
      await call('POST /v1/config/apply', 200, api('post', '/v1/config/apply?dryRun=true').send(exported.body));
      await call('POST /v1/config/apply', 400, api('post', '/v1/config/apply?force=yes').send(exported.body));
    });

    it('residency and anycast', async () => {
      await call('GET /v1/residency/jurisdictions', 200, api('get', '/v1/residency/jurisdictions'));
      await call('GET /v1/residency/jurisdictions', 401, app.http.get('/v1/residency/jurisdictions').set('Authorization', 'Bearer wrong'));
      await call('POST /v1/residency/replication-check', 200, api('post', '/v1/residency/replication-check').send({ dataClass: 'personal', subjectJurisdiction: 'EU', sourceRegion: 'eu-west-1', targetRegions: ['eu-central-1', 'us-east-1'] }));
      await call('POST /v1/residency/replication-check', 400, api('post', '/v1/residency/replication-check').send({ dataClass: 'personal' }));
      await call('GET /v1/anycast/topology', 200, api('get', '/v1/anycast/topology'));
      await call('GET /v1/anycast/topology', 401, app.http.get('/v1/anycast/topology'));
      await call('POST /v1/anycast/simulate', 409, api('post', '/v1/anycast/simulate').send({}));
      await call('PUT /v1/anycast/topology', 400, api('put', '/v1/anycast/topology').set('Content-Type', 'text/plain').send('1|2|7\n'));
      expect((await api('patch', '/v1/regions/eu-central-1').send({ anycast: { originAsn: 64500, upstreams: [10] } })).status).toBe(200);
      expect((await api('patch', '/v1/regions/us-east-1').send({ anycast: { originAsn: 64500, upstreams: [20] } })).status).toBe(200);
      await call('PUT /v1/anycast/topology', 200, api('put', '/v1/anycast/topology').set('Content-Type', 'text/plain').send(CAIDA));
      await call('GET /v1/anycast/topology', 200, api('get', '/v1/anycast/topology'));
      await call('POST /v1/anycast/simulate', 200, api('post', '/v1/anycast/simulate').send({ withdrawn: ['eu-central-1'], clients: [11, 21] }));
      await call('POST /v1/anycast/simulate', 400, api('post', '/v1/anycast/simulate').send({ clients: [0] }));
      await call('GET /v1/anycast/route', 200, api('get', '/v1/anycast/route?asn=11'));
      await call('GET /v1/anycast/route', 400, api('get', '/v1/anycast/route?asn=abc'));
    });

    it('instances and the event stream', async () => {
      await call('GET /v1/instances', 200, api('get', '/v1/instances'));
      await call('GET /v1/instances', 401, app.http.get('/v1/instances'));
      await call('GET /v1/events/stream', 401, app.http.get('/v1/events/stream'));
      // The stream stays open: read its head and first event, then hang up.
      const first = await new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: app.httpPort, path: '/v1/events/stream', headers: { Authorization: `Bearer ${TEST_TOKEN}` } }, (res) => {
          res.setEncoding('utf8');
          res.once('data', (chunk: string) => {
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: chunk });
            req.destroy();
          });
        });
        req.on('error', reject);
      });
      expect(validator.validate('get', '/v1/events/stream', first.status, first.text, first.type)).toEqual([]);
      expect(first.text).toMatch(/^id: \d+\nevent: ready\ndata: \{"at":"/);
      seen.get('GET /v1/events/stream')?.add('success');
    });

    it('tokens and the audit trail', async () => {
      const created = await call('POST /v1/tokens', 201, api('post', '/v1/tokens').send({ name: 'contract-reader', scopes: ['read'] }));
      await call('POST /v1/tokens', 400, api('post', '/v1/tokens').send({ name: 'contract-bad', scopes: ['everything'] }));
      await call('GET /v1/tokens', 200, api('get', '/v1/tokens'));
      await call('GET /v1/tokens', 403, app.http.get('/v1/tokens').set('Authorization', `Bearer ${created.body.token}`));
      await call('GET /v1/tokens/{id}', 200, api('get', `/v1/tokens/${created.body.id}`));
      await call('GET /v1/tokens/{id}', 404, api('get', `/v1/tokens/${randomUUID()}`));
      await call('DELETE /v1/tokens/{id}', 204, api('delete', `/v1/tokens/${created.body.id}`));
      await call('DELETE /v1/tokens/{id}', 404, api('delete', `/v1/tokens/${randomUUID()}`));
      await call('GET /v1/audit', 200, api('get', '/v1/audit?kind=token&limit=10'));
      await call('GET /v1/audit', 400, api('get', '/v1/audit?since=yesterday'));
    });

    it('notifications', async () => {
      const port = (hooks.address() as { port: number }).port;
      const body = { url: `http://127.0.0.1:${port}/hooks`, secret: NOTIFY_SECRET, events: ['region.unhealthy', 'region.healthy'], description: 'contract' };
      const created = await call('POST /v1/notifications', 201, api('post', '/v1/notifications').send(body));
      await call('POST /v1/notifications', 400, api('post', '/v1/notifications').send({ ...body, events: ['region.exploded'] }));
      await call('GET /v1/notifications', 200, api('get', '/v1/notifications'));
      await call('GET /v1/notifications', 400, api('get', '/v1/notifications?limit=9999'));
      await call('GET /v1/notifications/{id}', 200, api('get', `/v1/notifications/${created.body.id}`));
      await call('GET /v1/notifications/{id}', 404, api('get', `/v1/notifications/${randomUUID()}`));
      await call('POST /v1/notifications/{id}/test', 202, api('post', `/v1/notifications/${created.body.id}/test`));
      await call('POST /v1/notifications/{id}/test', 404, api('post', `/v1/notifications/${randomUUID()}/test`));
      await call('GET /v1/notifications/{id}/deliveries', 200, api('get', `/v1/notifications/${created.body.id}/deliveries`));
      await call('GET /v1/notifications/{id}/deliveries', 404, api('get', `/v1/notifications/${randomUUID()}/deliveries`));
      await call('DELETE /v1/notifications/{id}', 204, api('delete', `/v1/notifications/${created.body.id}`));
      await call('DELETE /v1/notifications/{id}', 404, api('delete', `/v1/notifications/${created.body.id}`));
    });

    it('measurements and the beacon', async () => {
      const key = await call('POST /v1/measurements/beacon-keys', 201, api('post', '/v1/measurements/beacon-keys').send({ service: 'app.example.com', probePath: '/georoute-probe', sampleRate: 0.5 }));
      await call('POST /v1/measurements/beacon-keys', 400, api('post', '/v1/measurements/beacon-keys').send({ service: 'app.example.com', sampleRate: 2 }));
      await call('GET /v1/measurements/beacon-keys', 200, api('get', '/v1/measurements/beacon-keys'));
      await call('GET /v1/measurements/beacon-keys', 401, app.http.get('/v1/measurements/beacon-keys'));
      await call('GET /beacon.js', 200, app.http.get('/beacon.js'));
      await call('GET /v1/measurements/beacon', 200, app.http.get(`/v1/measurements/beacon?key=${key.body.key}`));
      await call('GET /v1/measurements/beacon', 403, app.http.get('/v1/measurements/beacon?key=bk_not-a-key'));
      await call('POST /v1/measurements/beacon', 202, app.http.post('/v1/measurements/beacon').set('Content-Type', 'text/plain').send(JSON.stringify({ key: key.body.key, results: [{ region: 'eu-west-1', rttMs: 21.5 }] })));
      await call('POST /v1/measurements/beacon', 400, app.http.post('/v1/measurements/beacon').set('Content-Type', 'text/plain').send('{not json'));
      await call('POST /v1/measurements', 202, api('post', '/v1/measurements').send({ measurements: [{ client: '81.2.69.7', region: 'eu-west-1', rttMs: 20.5, observedAt: new Date().toISOString() }] }));
      await call('POST /v1/measurements', 400, api('post', '/v1/measurements').send({ measurements: [{ client: '81.2.69.7', region: 'eu-west-1', rttMs: -1 }] }));
      await call('GET /v1/measurements/summary', 200, api('get', '/v1/measurements/summary?service=app.example.com'));
      await call('GET /v1/measurements/summary', 404, api('get', '/v1/measurements/summary?service=missing.example.com'));
    });

    it('the dashboard\'s own reads', async () => {
      await call('GET /v1/dashboard/session', 200, api('get', '/v1/dashboard/session'));
      await call('GET /v1/dashboard/session', 401, app.http.get('/v1/dashboard/session').set('Authorization', 'Bearer not-a-token-0123456789'));
      await call('GET /v1/dashboard/traffic', 200, api('get', '/v1/dashboard/traffic'));
      await call('GET /v1/dashboard/traffic', 401, app.http.get('/v1/dashboard/traffic'));
    });

    it('every operation of the document was exercised, with a success and an error', () => {
      const missing = operations(doc)
        .map(([m, p]) => `${m.toUpperCase()} ${p}`)
        .filter((op) => {
          const s = seen.get(op);
          const [method, path] = op.split(' ');
          const declaresErrors = Object.keys(doc.paths[path][method.toLowerCase()].responses).some((status) => /^[45]/.test(status));
          return !s || !s.has('success') || (declaresErrors && !NOT_PROVOKED.includes(op) && !s.has('error'));
        });
      expect(missing).toEqual([]);
    });
  });
});
