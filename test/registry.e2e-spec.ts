import { createTestDatabase, startTestApp, loadFixture, TestApp, TestDatabase, FIXTURE } from './support/test-app';

describe('admin API: zones, records, regions, services', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db);
    await loadFixture(app);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('refuses requests without a valid bearer token with a 401 problem document', async () => {
    for (const auth of [undefined, 'Bearer wrong-token-wrong-token', 'Basic abc', `Bearer ${'x'.repeat(500)}`]) {
      const req = app.http.get('/v1/zones');
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
      expect(res.headers['www-authenticate']).toMatch(/Bearer/);
    }
  });

  it('serves /healthz and /readyz without auth', async () => {
    expect((await app.http.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await app.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.ready).toBe(true);
    expect(ready.body.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['snapshot', 'dns']));
  });

  it('publishes OpenAPI generated from the DTOs', async () => {
    const res = await app.http.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/v1/zones', '/v1/regions/{name}', '/v1/services/{fqdn}', '/v1/route']));
    expect(res.body.components.schemas.CreateRegionDto.required).toEqual(expect.arrayContaining(['name', 'countryCode', 'location', 'endpoints']));
    expect((await app.http.get('/docs')).status).toBe(200);
  });

  it('creates, reads, patches and deletes a zone; the serial grows on every change', async () => {
    const created = await app.api('post', '/v1/zones', { name: 'Example.NET.', nameservers: ['ns1.example.net'], hostmaster: 'hostmaster.example.net', ttl: 600 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'example.net', ttl: 600, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 300, serial: 1 });
    const patched = await app.api('patch', '/v1/zones/example.net', { negativeTtl: 60 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ negativeTtl: 60, serial: 2 });
    const rec = await app.api('post', '/v1/zones/example.net/records', { name: 'www', type: 'A', values: ['192.0.2.80'] });
    expect(rec.status).toBe(201);
    expect(rec.body).toMatchObject({ name: 'www', fqdn: 'www.example.net', type: 'A', ttl: 300, values: ['192.0.2.80'] });
    expect((await app.api('get', '/v1/zones/example.net')).body.serial).toBe(3);
    expect((await app.api('delete', `/v1/zones/example.net/records/${rec.body.id}`)).status).toBe(204);
    expect((await app.api('get', '/v1/zones/example.net')).body.serial).toBe(4);
    expect((await app.api('delete', '/v1/zones/example.net')).status).toBe(204);
    const gone = await app.api('get', '/v1/zones/example.net');
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toContain('example.net');
  });

  it('bumps the serial of the zone when a service in it changes', async () => {
    const before = (await app.api('get', '/v1/zones/example.com')).body.serial;
    expect((await app.api('patch', '/v1/services/app.example.com', { ttl: 20 })).status).toBe(200);
    expect((await app.api('get', '/v1/zones/example.com')).body.serial).toBe(before + 1);
    expect((await app.api('patch', '/v1/services/app.example.com', { ttl: 30 })).status).toBe(200);
  });

  it('lists with limit and cursor in a stable order', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { name: string }[]; nextCursor: string | null } } = await app.api(
        'get',
        `/v1/regions?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(1);
      names.push(...res.body.items.map((r) => r.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(names).toEqual([...FIXTURE.regions.map((r) => r.name)].sort());
  });

  it('shows regions with a derived jurisdiction, health and no secret', async () => {
    const res = await app.api('post', '/v1/regions', {
      name: 'eu-north-1', countryCode: 'SE', location: { latitude: 59.33, longitude: 18.07 },
      endpoints: { ipv4: ['198.51.100.30'] }, webhookSecret: 'a-very-secret-secret-12345678',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'eu-north-1', jurisdiction: 'EU', weight: 100, drained: false, webhookSecretSet: true, health: { status: 'unknown' } });
    expect(JSON.stringify(res.body)).not.toContain('a-very-secret-secret-12345678');
    const got = await app.api('get', '/v1/regions/eu-north-1');
    expect(JSON.stringify(got.body)).not.toContain('a-very-secret-secret-12345678');
    expect((await app.api('get', '/v1/regions/us-east-1')).body.jurisdiction).toBe('US');
    expect((await app.api('delete', '/v1/regions/eu-north-1')).status).toBe(204);
  });

  it('answers 409 for duplicates and for deleting what is still in use', async () => {
    expect((await app.api('post', '/v1/zones', FIXTURE.zone)).status).toBe(409);
    expect((await app.api('post', '/v1/regions', FIXTURE.regions[0])).status).toBe(409);
    expect((await app.api('post', '/v1/services', FIXTURE.service)).status).toBe(409);
    const region = await app.api('delete', '/v1/regions/eu-west-1');
    expect(region.status).toBe(409);
    expect(region.body.detail).toContain('app.example.com');
    const zone = await app.api('delete', '/v1/zones/example.com');
    expect(zone.status).toBe(409);
    expect(zone.body.detail).toContain('app.example.com');
  });

  it('answers 404 for unknown names', async () => {
    for (const url of ['/v1/zones/nope.example', '/v1/regions/nope-1', '/v1/services/nope.example.com', '/v1/zones/nope.example/records']) {
      const res = await app.api('get', url);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await app.api('delete', '/v1/zones/example.com/records/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it('creates and reads back a service with defaults', async () => {
    const res = await app.api('post', '/v1/services', { fqdn: 'api.example.com', regions: ['us-east-1', 'eu-west-1'], policy: 'failover' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fqdn: 'api.example.com', zone: 'example.com', ttl: 30, residency: 'gdpr', unknownLocation: 'route', whenAllUnhealthy: 'fail-open', answerCount: 1 });
    expect((await app.api('get', '/v1/services/API.example.com.')).body.fqdn).toBe('api.example.com');
    expect((await app.api('delete', '/v1/services/api.example.com')).status).toBe(204);
  });
});
