import { SCOPES, type Scope } from '../src/common/scopes';
import { READ_ONLY_POSTS, Route, routeTable } from './support/routes';
import { waitFor } from './support/dns-client';
import { createTestDatabase, dumpRegistry, startTestApp, TestApp, TestDatabase, TEST_TOKEN } from './support/test-app';

/** A scope that does not grant `needed`: the token the route must refuse. */
const LACKING: Record<Scope, Scope[]> = {
  read: ['health:report', 'measurements:report'], write: ['read', 'health:report', 'measurements:report'], 'health:report': ['write', 'measurements:report'],
  'measurements:report': ['write', 'health:report'], admin: ['write', 'health:report', 'measurements:report'],
};

describe('scoped API tokens', () => {
  let db: TestDatabase;
  let app: TestApp;
  const as = (token: string) => ({
    get: (url: string) => app.http.get(url).set('Authorization', `Bearer ${token}`),
    send: (method: 'post' | 'patch' | 'put' | 'delete', url: string, body?: object) => app.http[method](url).set('Authorization', `Bearer ${token}`).send(body),
  });
  const newToken = async (name: string, scopes: Scope[], extra: object = {}) => {
    const res = await app.api('post', '/v1/tokens', { name, scopes, ...extra });
    expect([res.status, res.body.name]).toEqual([201, name]);
    return res.body as { id: string; token: string; scopes: Scope[] };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('every route declares its scope or is public, and mutating routes need more than read', () => {
    const routes = routeTable(app);
    expect(routes.length).toBeGreaterThan(30);
    const undeclared = routes.filter((r) => !r.isPublic && r.scope === undefined).map((r) => `${r.method} ${r.path}`);
    expect(undeclared).toEqual([]);
    const readOnlyWrites = routes
      .filter((r) => !r.isPublic && r.scope === 'read' && !['GET', 'HEAD'].includes(r.method) && !READ_ONLY_POSTS.has(`${r.method} ${r.path}`))
      .map((r) => `${r.method} ${r.path}`);
    expect(readOnlyWrites).toEqual([]);
    for (const r of routes) if (r.scope !== undefined) expect(SCOPES).toContain(r.scope);
    // The public ones are exactly these (a new public route is a decision, not an accident).
    expect(routes.filter((r) => r.isPublic).map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'ALL /r', 'ALL /r/*path', 'GET /beacon.js', 'GET /healthz', 'GET /metrics', 'GET /readyz', 'GET /ui', 'GET /ui/:file', 'GET /v1/measurements/beacon', 'POST /v1/health/webhook',
      'POST /v1/measurements/beacon',
    ]);
  });

  it('over HTTP, every route refuses a token without its scope (403 naming it) and changes nothing', async () => {
    const tokens = new Map<Scope, string>();
    for (const scope of SCOPES) tokens.set(scope, (await newToken(`walk-${scope.replace(':', '-')}`, [scope])).token);
    const before = await dumpRegistry(app.ds);
    const routes = routeTable(app).filter((r) => !r.isPublic);
    const urlOf = (r: Route) => r.path.replace(/:[a-z]+/gi, 'example.com').replace('*path', 'x');
    const call = (r: Route, token: string) => app.http[r.method.toLowerCase() as 'get'](urlOf(r)).set('Authorization', `Bearer ${token}`).send({});
    for (const r of routes) {
      for (const lacking of LACKING[r.scope!]) {
        const res = await call(r, tokens.get(lacking)!);
        expect({ route: `${r.method} ${r.path}`, lacking, status: res.status, requiredScope: res.body.requiredScope }).toEqual({ route: `${r.method} ${r.path}`, lacking, status: 403, requiredScope: r.scope });
        expect(res.body.detail).toContain(`"${r.scope}"`);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // The scope itself, and admin, get past the guard (whatever the handler then says of the body).
    const checked: string[] = [];
    for (const r of routes) {
      if (r.method === 'DELETE' || r.path === '/v1/events/stream') continue;
      for (const held of new Set<Scope>([r.scope!, 'admin'])) {
        const res = await call(r, tokens.get(held)!);
        expect({ route: `${r.method} ${r.path}`, held, refused: [401, 403].includes(res.status) }).toEqual({ route: `${r.method} ${r.path}`, held, refused: false });
      }
      checked.push(`${r.method} ${r.path}`);
    }
    expect(checked).toEqual(expect.arrayContaining(['POST /v1/tokens', 'PATCH /v1/regions/:name', 'POST /v1/config/apply', 'GET /v1/regions']));
  });

  it('a read token reads, a write token writes, only admin manages tokens', async () => {
    const reader = await newToken('dashboard', ['read']);
    const writer = await newToken('ci-deploy', ['write']);
    expect((await as(reader.token).get('/v1/regions/eu-west-1')).status).toBe(200);
    const refused = await as(reader.token).send('patch', '/v1/regions/eu-west-1', { drained: true });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ status: 403, title: 'Forbidden', code: 'forbidden', requiredScope: 'write', tokenScopes: ['read'] });
    expect(refused.body.detail).toBe('the token "dashboard" lacks the scope "write" this route needs (it has: read)');
    expect((await as(writer.token).send('patch', '/v1/regions/eu-west-1', { drained: true })).status).toBe(200);
    expect((await as(writer.token).send('patch', '/v1/regions/eu-west-1', { drained: false })).status).toBe(200);
    const tokens = await as(writer.token).get('/v1/tokens');
    expect([tokens.status, tokens.body.requiredScope]).toEqual([403, 'admin']);
    const admin = await newToken('platform-admin', ['admin']);
    expect((await as(admin.token).get('/v1/tokens')).status).toBe(200);
    const third = await as(admin.token).send('post', '/v1/tokens', { name: 'made-by-token', scopes: ['read'] });
    expect([third.status, third.body.createdBy]).toEqual([201, 'platform-admin']);
  });

  it('shows the secret once and stores only a scrypt hash', async () => {
    const created = await newToken('secret-check', ['read'], { expiresAt: '2099-01-01T00:00:00Z' });
    expect(created).toMatchObject({ scopes: ['read'], createdBy: 'admin', expiresAt: '2099-01-01T00:00:00.000Z', revokedAt: null, active: true });
    const secret = created.token.split('_').slice(2).join('_');
    const listed = await app.api('get', '/v1/tokens?limit=500');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((t: { name: string }) => t.name)).toContain('secret-check');
    const one = await app.api('get', `/v1/tokens/${created.id}`);
    expect(one.body).toEqual({ ...created, token: undefined });
    for (const body of [listed.body, one.body]) {
      expect(JSON.stringify(body)).not.toContain(secret);
      expect(JSON.stringify(body)).not.toContain('scrypt');
    }
    const rows: { secret_hash: string }[] = await app.ds.query('SELECT secret_hash FROM api_tokens WHERE id = $1', [created.id]);
    expect(rows[0].secret_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(rows[0].secret_hash).not.toContain(secret);
  });

  it.each<[string, object, number, string]>([
    ['an unknown scope', { name: 'x1', scopes: ['root'] }, 400, 'scopes'],
    ['no scope', { name: 'x2', scopes: [] }, 400, 'scopes'],
    ['a scope twice', { name: 'x3', scopes: ['read', 'read'] }, 400, 'scopes'],
    ['a bad name', { name: 'Has Spaces', scopes: ['read'] }, 400, 'name'],
    ['an expiry in the past', { name: 'x4', scopes: ['read'], expiresAt: '2020-01-01T00:00:00Z' }, 400, 'expiresAt'],
    ['an expiry that is not a date', { name: 'x5', scopes: ['read'], expiresAt: 'tomorrow' }, 400, 'expiresAt'],
    ['an unknown field', { name: 'x6', scopes: ['read'], secret: 'mine' }, 400, 'secret'],
    ['the name of a live token', { name: 'dashboard', scopes: ['read'] }, 409, 'dashboard'],
    ['a name the audit trail uses for ADMIN_TOKEN', { name: 'admin', scopes: ['read'] }, 400, 'reserved'],
    ['a name the audit trail uses for background work', { name: 'system', scopes: ['read'] }, 400, 'reserved'],
  ])('refuses %s', async (_name, body, status, text) => {
    const before = await app.ds.query('SELECT count(*)::int AS n FROM api_tokens');
    const res = await app.api('post', '/v1/tokens', body);
    expect(res.status).toBe(status);
    expect(JSON.stringify(res.body)).toContain(text);
    expect(await app.ds.query('SELECT count(*)::int AS n FROM api_tokens')).toEqual(before);
  });

  it('refuses wrong, malformed and expired tokens with 401, and counts them in metrics', async () => {
    const created = await newToken('short-lived', ['read'], { expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await as(created.token).get('/v1/regions')).status).toBe(200);
    const wrongSecret = created.token.slice(0, -4) + (created.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const bad of [wrongSecret, 'grt_0000000000000000_' + 'a'.repeat(43), 'nonsense']) {
      const res = await as(bad).get('/v1/regions');
      expect([res.status, res.headers['www-authenticate']]).toEqual([401, 'Bearer realm="georoute"']);
    }
    expect((await app.http.get('/v1/regions')).status).toBe(401);
    await waitFor('the token to expire', async () => (await as(created.token).get('/v1/regions')).status === 401, 3000, 50);
    const metrics = (await app.http.get('/metrics')).text;
    const count = (reason: string) => Number(new RegExp(`^georoute_auth_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    expect(count('bad-token')).toBeGreaterThanOrEqual(4);
    expect(count('no-token')).toBeGreaterThanOrEqual(1);
    expect(count('missing-scope')).toBeGreaterThanOrEqual(1);
  });

  it('revocation takes effect within 1 s, and ADMIN_TOKEN stays the bootstrap admin', async () => {
    const t = await newToken('to-revoke', ['write']);
    expect((await as(t.token).get('/v1/regions')).status).toBe(200);
    const res = await app.api('delete', `/v1/tokens/${t.id}`);
    expect(res.status).toBe(204);
    const t0 = Date.now();
    await waitFor('the revoked token to be refused', async () => (await as(t.token).get('/v1/regions')).status === 401, 1000, 20);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await app.api('get', `/v1/tokens/${t.id}`)).body).toMatchObject({ active: false, revokedAt: expect.any(String) });
    expect((await app.api('delete', `/v1/tokens/${t.id}`)).status).toBe(204);
    expect((await app.api('delete', '/v1/tokens/0000000000000000')).status).toBe(404);
    // The name is free again.
    expect((await app.api('post', '/v1/tokens', { name: 'to-revoke', scopes: ['read'] })).status).toBe(201);
    expect((await app.api('get', '/v1/tokens')).status).toBe(200);
  });

  // Two instances need a server: PGlite is one backend in one process (CI runs this with DATABASE_URL).
  if (process.env.DATABASE_URL) it('a token revoked through one instance is refused by another within 1 s', async () => {
    const other = await startTestApp(db, { CONFIG_FILE: 'none' });
    try {
      const t = await newToken('two-instances', ['read']);
      const viaOther = () => other.http.get('/v1/regions').set('Authorization', `Bearer ${t.token}`);
      expect((await viaOther()).status).toBe(200);
      expect((await app.api('delete', `/v1/tokens/${t.id}`)).status).toBe(204);
      const t0 = Date.now();
      await waitFor('the other instance to refuse it', async () => (await viaOther()).status === 401, 1000, 20);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect((await other.http.get('/v1/regions').set('Authorization', `Bearer ${TEST_TOKEN}`)).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it('health:report: a tool reports a region\'s health with its token (no signature), and can do nothing else', async () => {
    const reporter = await newToken('region-agent', ['health:report']);
    const before = await dumpRegistry(app.ds);
    const bad = await as(reporter.token).send('post', '/v1/regions/eu-west-1/report', { status: 'sick' });
    expect([bad.status, bad.body.errors?.[0]?.field]).toEqual([400, 'status']);
    const named = await as(reporter.token).send('post', '/v1/regions/eu-west-1/report', { region: 'us-east-1', status: 'unhealthy' });
    expect([named.status, named.body.errors?.[0]?.field]).toEqual([400, 'region']);
    expect((await as(reporter.token).send('post', '/v1/regions/nowhere-1/report', { status: 'unhealthy' })).status).toBe(404);
    expect((await app.api('get', '/v1/regions/eu-west-1/health')).body.status).not.toBe('unhealthy');

    const res = await as(reporter.token).send('post', '/v1/regions/eu-west-1/report', { status: 'unhealthy', reason: 'disk full' });
    expect([res.status, res.body.region, res.body.status]).toEqual([202, 'eu-west-1', 'unhealthy']);
    expect((await app.api('get', '/v1/regions/eu-west-1/health')).body).toMatchObject({ status: 'unhealthy' });
    // Recorded as this token's doing; the registry itself is untouched.
    const audit = await app.api('get', '/v1/audit?token=region-agent');
    expect(audit.body.items.map((e: { kind: string; name: string }) => `${e.kind} ${e.name}`)).toContain('region-health eu-west-1');
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // Nothing else: not even reading.
    const read = await as(reporter.token).get('/v1/regions/eu-west-1/health');
    expect([read.status, read.body.requiredScope]).toEqual([403, 'read']);
    // And a read or write token cannot report.
    const writer = await newToken('not-a-reporter', ['write']);
    const refused = await as(writer.token).send('post', '/v1/regions/eu-west-1/report', { status: 'healthy' });
    expect([refused.status, refused.body.requiredScope]).toEqual([403, 'health:report']);
    expect((await as(reporter.token).send('post', '/v1/regions/eu-west-1/report', { status: 'healthy' })).status).toBe(202);
  });
});
