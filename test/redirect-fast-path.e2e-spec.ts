import * as http from 'node:http';
import { Writable } from 'node:stream';
import { PinoLogger } from '../src/common/pino-logger';
import { GeoLocator } from '../src/geo/geo-locator';
import { RedirectFastPath } from '../src/redirect/fast-path';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';

/**
 * The lean path of GET/HEAD /r/ and /healthz (src/redirect/fast-path.ts) against the Nest path it
 * sits in front of: OPTIONS is a safe method (routed as a read, like GET) that still goes through
 * Express and RedirectService (decide()), so the same request asked both ways must get the same
 * status, Location and headers, for every policy, clients from everywhere, after health and
 * drain changes, on read and write names.
 */

// Located all over the bundled DB-IP database, IPv6 too, plus addresses it cannot place.
const CLIENTS = [
  '193.99.144.80', '89.160.20.130', '80.12.0.1', '151.1.0.1', '85.214.132.117', '212.27.48.10', '88.208.0.1', '195.113.0.1',
  '81.2.69.160', '133.242.0.3', '1.1.1.1', '8.8.8.8', '200.160.2.3', '41.203.64.1', '103.21.244.1', '202.12.27.33', '175.45.176.1',
  '2a01:4f8:0:a0a1::2', '2001:200:dff:fff1:216:3eff:feb1:44d7', '2800:3f0:4001:80a::200e', '::ffff:133.242.0.3',
  '10.1.2.3', '192.0.2.44', '100.64.0.1', '::1',
];

/** Headers both paths must agree on (Date, ETag, X-Powered-By and connection headers aside). */
const COMPARED = ['location', 'cache-control', 'x-georoute-region', 'x-georoute-reason', 'x-georoute-access', 'content-type', 'retry-after'];

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('redirect fast path: the same answers as the Nest path', () => {
  let db: TestDatabase;
  let app: TestApp;
  let fast: RedirectFastPath;
  const lines: string[] = [];

  /** One request as written (node:http: no normalisation), from 127.0.0.1 (a trusted proxy). */
  const ask = (method: string, path: string, forwardedFor?: string) =>
    new Promise<Answer>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = forwardedFor === undefined ? {} : { 'X-Forwarded-For': forwardedFor };
      const req = http.request({ host: '127.0.0.1', port: app.httpPort, method, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  /** GET through the fast path (checked by its counter), OPTIONS through Nest; both must agree. */
  const compare = async (path: string, client: string): Promise<Answer> => {
    const before = fast.answered;
    const viaFast = await ask('GET', path, client);
    const viaNest = await ask('OPTIONS', path, client);
    const context = `${path} from ${client}`;
    expect([context, viaFast.status]).toEqual([context, viaNest.status]);
    for (const h of COMPARED) expect([context, h, viaFast.headers[h]]).toEqual([context, h, viaNest.headers[h]]);
    expect([context, viaFast.body]).toEqual([context, viaNest.body]);
    // A 307 is the fast path's own answer; everything else it hands to Nest.
    expect([context, fast.answered - before]).toEqual([context, viaFast.status === 307 ? 1 : 0]);
    return viaFast;
  };

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', TRUSTED_PROXIES: '127.0.0.1/32,::1/128', LOG_LEVEL: 'debug' }, new PinoLogger('debug', 'fast-path-test', sink));
    fast = app.running.app.get(RedirectFastPath);
    const created = async (body: unknown) => {
      const res = await app.api('post', '/v1/services', body);
      expect([res.status, res.body]).toEqual([201, expect.anything()]);
    };
    await created({ fqdn: 'geo.example.com', policy: 'geolocation', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'sa-east-1'], residency: 'none', geolocation: { 'continent:EU': ['eu-west-1'], 'continent:AS': ['ap-northeast-1'], BR: ['sa-east-1'], '*': ['us-east-1'] } });
    await created({ fqdn: 'weighted.example.com', policy: 'weighted', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'], residency: 'none' });
    await created({ fqdn: 'failover.example.com', policy: 'failover', regions: ['eu-central-1', 'us-west-2'], residency: 'none', ttl: 90 });
    await created({ fqdn: 'us-only.example.com', regions: ['us-east-1', 'us-west-2'], residency: 'gdpr' });
    await created({
      fqdn: 'db.example.com',
      policy: 'proximity',
      regions: ['eu-west-1', 'eu-central-1', 'us-east-1'],
      residency: 'gdpr',
      replication: { mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'write.db.example.com' },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  const SERVICES = ['app.example.com', 'cdn.example.com', 'geo.example.com', 'weighted.example.com', 'failover.example.com', 'us-only.example.com', 'db.example.com', 'write.db.example.com'];

  it('agrees with the Nest path for every policy and client, refusals included', async () => {
    const statuses = new Set<number>();
    const reasons = new Set<string>();
    for (const fqdn of SERVICES) {
      for (const client of CLIENTS) {
        const res = await compare(`/r/${fqdn}/account/42?tab=a%20b`, client);
        statuses.add(res.status);
        reasons.add(String(res.headers['x-georoute-reason']));
      }
    }
    // The comparison covered answers of each kind, not one kind many times.
    expect([...statuses].sort()).toEqual([307, 503]);
    for (const r of ['nearest-healthy', 'unknown-location', 'geolocation-continent', 'geolocation-country', 'geolocation-default', 'weighted', 'failover-primary', 'write-primary', 'residency-no-eligible-region']) {
      expect([r, reasons.has(r)]).toEqual([r, true]);
    }
    // Replicated services name the access; writes on the write name go to the primary.
    const write = await ask('GET', '/r/write.db.example.com/x', '8.8.8.8');
    expect(write.headers).toMatchObject({ 'x-georoute-access': 'write', 'x-georoute-region': 'eu-west-1', 'x-georoute-reason': 'write-primary' });
    expect((await ask('GET', '/r/db.example.com/x', '8.8.8.8')).headers['x-georoute-access']).toBe('read');
  });

  it('follows drain and health changes at once, as the Nest path does', async () => {
    expect((await app.api('patch', '/v1/regions/eu-central-1', { drained: true })).status).toBe(200);
    try {
      for (const client of CLIENTS.slice(0, 10)) {
        const res = await compare('/r/failover.example.com/', client);
        expect(res.headers['x-georoute-region']).toBe('us-west-2');
        expect(res.headers['cache-control']).toBe('private, max-age=90');
      }
      for (const client of CLIENTS.slice(0, 8)) await compare('/r/app.example.com/', client);
    } finally {
      expect((await app.api('patch', '/v1/regions/eu-central-1', { drained: false })).status).toBe(200);
    }
    expect((await ask('GET', '/r/failover.example.com/', '8.8.8.8')).headers['x-georoute-region']).toBe('eu-central-1');
  });

  it('follows a region moved (a new region ranking) and a geo database reload (a new classifier)', async () => {
    expect((await app.api('post', '/v1/services', { fqdn: 'near.example.com', policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'], residency: 'none' })).status).toBe(201);
    const brazil = '200.160.2.3';
    // Ranking rows for these clients exist before the move (made on first use).
    for (const client of CLIENTS) await compare('/r/near.example.com/', client);
    expect((await ask('GET', '/r/near.example.com/', brazil)).headers['x-georoute-region']).toBe('us-east-1');
    const region = (await app.api('get', '/v1/regions/us-east-1')).body;
    // us-east-1 "moves" to Sydney: Ireland is now nearer to Brazil than it is.
    expect((await app.api('patch', '/v1/regions/us-east-1', { location: { latitude: -33.87, longitude: 151.21 } })).status).toBe(200);
    try {
      for (const client of CLIENTS) await compare('/r/near.example.com/', client);
      expect((await ask('GET', '/r/near.example.com/', brazil)).headers['x-georoute-region']).toBe('eu-west-1');
    } finally {
      expect((await app.api('patch', '/v1/regions/us-east-1', { location: region.location })).status).toBe(200);
    }
    const locator = app.running.app.get(GeoLocator);
    const before = locator.classifier;
    await locator.reload();
    for (const client of CLIENTS.slice(0, 12)) await compare('/r/geo.example.com/x', client);
    expect(locator.classifier).not.toBe(before);
    expect((fast as unknown as { classifier: unknown }).classifier).toBe(locator.classifier);
  });

  it('hands what it does not answer to Nest: unknown names, hostile paths, other methods, no trusted client', async () => {
    for (const path of ['/r/nothing.example.com/', '/r/cdn.example.com/..', '/r/cdn.example.com/a%2fb', `/r/cdn.example.com/${'a'.repeat(5000)}`, '/r/', '/r']) {
      const before = fast.answered;
      const res = await ask('GET', path, '8.8.8.8');
      expect([path, res.status]).toEqual([path, path === '/r/nothing.example.com/' || path === '/r/' || path === '/r' ? 404 : path.length > 4000 ? 414 : 400]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers.location).toBeUndefined();
      expect(fast.answered).toBe(before);
    }
    const before = fast.answered;
    const post = await ask('POST', '/r/cdn.example.com/x', '133.242.0.3');
    expect([post.status, post.headers['x-georoute-region']]).toEqual([307, 'ap-northeast-1']);
    expect(fast.answered).toBe(before);
  });

  it('a failure inside the fast path is logged and Nest answers; the server lives on', async () => {
    // Fault injection: the real fast path with its table look-up made to throw (as a bug would).
    const target = fast as unknown as { tables: () => never };
    const tables = target.tables;
    target.tables = () => {
      throw new Error('injected');
    };
    try {
      const failures = fast.failures;
      const answered = fast.answered;
      const res = await ask('GET', '/r/cdn.example.com/x', '133.242.0.3');
      expect([res.status, res.headers['x-georoute-region'], res.headers.location]).toEqual([307, 'ap-northeast-1', 'https://ap-northeast-1.app.example.com/x']);
      expect([fast.failures - failures, fast.answered - answered]).toEqual([1, 0]);
    } finally {
      target.tables = tables;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.join('')).toMatch(/fast path failed on GET \/r\/cdn\.example\.com\/x, handed to Nest: injected/);
    expect((await ask('GET', '/r/cdn.example.com/x', '133.242.0.3')).status).toBe(307);
  });

  it('HEAD: the same headers, no body', async () => {
    const head = await ask('HEAD', '/r/cdn.example.com/x?y=1', '133.242.0.3');
    const get = await ask('GET', '/r/cdn.example.com/x?y=1', '133.242.0.3');
    expect(head.status).toBe(307);
    expect(head.body).toBe('');
    for (const h of ['location', 'cache-control', 'x-georoute-region', 'x-georoute-reason']) expect(head.headers[h]).toBe(get.headers[h]);
    expect(get.body).toBe('Temporary Redirect to ap-northeast-1\n');
    expect(get.headers['content-length']).toBe(String(get.body.length));
  });

  it('GET and HEAD /healthz answer as the controller did', async () => {
    const before = fast.answered;
    const get = await ask('GET', '/healthz');
    expect([get.status, get.headers['content-type'], JSON.parse(get.body)]).toEqual([200, 'application/json; charset=utf-8', { status: 'ok' }]);
    const head = await ask('HEAD', '/healthz?probe=1');
    expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', String(Buffer.byteLength('{"status":"ok"}'))]);
    expect(fast.answered).toBe(before + 2);
    // Other ops routes are still Nest's.
    expect((await ask('GET', '/readyz')).status).toBe(200);
    expect(fast.answered).toBe(before + 2);
  });

  it('its redirects carry the same security headers as every Nest answer (helmet, set server-wide), and no X-Powered-By', async () => {
    const before = fast.answered;
    const redirect = await ask('GET', '/r/cdn.example.com/x', '133.242.0.3');
    const nest = await ask('GET', '/readyz');
    expect(redirect.status).toBe(307);
    expect(fast.answered).toBe(before + 1);
    for (const h of ['x-content-type-options', 'content-security-policy', 'referrer-policy', 'x-frame-options', 'cross-origin-opener-policy']) {
      expect([h, redirect.headers[h]]).toEqual([h, nest.headers[h]]);
      expect([h, redirect.headers[h]]).toEqual([h, expect.any(String)]);
    }
    expect(redirect.headers['x-powered-by']).toBeUndefined();
  });

  it('keeps headers an earlier request listener of the server set (server-wide security headers)', async () => {
    const server = app.running.app.getHttpServer() as http.Server;
    const stamp = (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader('X-Content-Type-Options', 'nosniff');
    server.prependListener('request', stamp);
    try {
      const redirect = await ask('GET', '/r/cdn.example.com/', '133.242.0.3');
      expect([redirect.status, redirect.headers['x-content-type-options']]).toEqual([307, 'nosniff']);
      expect((await ask('GET', '/healthz')).headers['x-content-type-options']).toBe('nosniff');
    } finally {
      server.removeListener('request', stamp);
    }
  });

  it('attach: server-wide listeners added after the application still run before the fast path', async () => {
    // A server as Nest leaves it (the application as 'request' listener), then a hardening module
    // that appends its own listener, then attach(): the fast path must run last.
    const nestLike: http.RequestListener = (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not here\n');
    };
    const stamp: http.RequestListener = (_req, res) => res.setHeader('X-Frame-Options', 'DENY');
    const server = http.createServer(nestLike);
    server.on('request', stamp);
    fast.attach(server, nestLike);
    expect(server.listeners('request')[0]).toBe(stamp);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const get = (path: string) =>
        new Promise<Answer>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path, headers: { 'X-Forwarded-For': '133.242.0.3' } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
          }).on('error', reject);
        });
      const redirect = await get('/r/cdn.example.com/x');
      expect([redirect.status, redirect.headers['x-frame-options'], redirect.headers['x-georoute-region']]).toEqual([307, 'DENY', 'ap-northeast-1']);
      const other = await get('/elsewhere');
      expect([other.status, other.headers['x-frame-options']]).toEqual([404, 'DENY']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(() => fast.attach(http.createServer(), nestLike)).toThrow(/does not call the given application/);
  });

  it('counts its redirects in georoute_decisions_total and the decision histogram, and writes the access log line', async () => {
    const scrape = async () => (await ask('GET', '/metrics')).body;
    const value = (text: string) => Number(/georoute_decisions_total\{service="geo.example.com",region="sa-east-1",reason="geolocation-country",path="redirect"\} (\d+)/.exec(text)?.[1] ?? 0);
    const histogram = (text: string) => Number(/georoute_decision_seconds_count\{path="redirect"\} (\d+)/.exec(text)?.[1] ?? 0);
    const first = await scrape();
    for (let i = 0; i < 7; i++) expect((await ask('GET', '/r/geo.example.com/', '200.160.2.3')).headers['x-georoute-region']).toBe('sa-east-1');
    const second = await scrape();
    expect(value(second) - value(first)).toBe(7);
    expect(histogram(second) - histogram(first)).toBeGreaterThanOrEqual(7);
    await new Promise((r) => setTimeout(r, 100));
    const log = lines.join('');
    expect(log).toMatch(/"context":"http".*"msg":"GET \/r\/geo\.example\.com\/ 307 \d+\.\d ms from 127\.0\.0\.0\/24"/);
    expect(log).not.toContain('200.160.2.3');
  });
});
