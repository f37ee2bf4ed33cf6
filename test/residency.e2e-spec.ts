import * as http from 'node:http';
import * as dnsPacket from 'dns-packet';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { addresses, query, rcodeOf, sendUdp } from './support/dns-client';

// Addresses the bundled DB-IP database places in EU/EEA countries (DE, SE, FR, IT, DE, FR, NL, CZ).
// London (81.2.69.x) is deliberately absent: the United Kingdom is not in the EU jurisdiction.
const EU_CLIENTS = ['193.99.144.80', '89.160.20.130', '80.12.0.1', '151.1.0.1', '85.214.132.117', '212.27.48.10', '88.208.0.1', '195.113.0.1'];
const EU_REGIONS = new Set(['eu-west-1', 'eu-central-1']);

describe('GDPR residency and redirects, end to end', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', TRUSTED_PROXIES: '127.0.0.1/32,::1/128' });
    const res = await app.api('post', '/v1/services', { fqdn: 'us-only.example.com', regions: ['us-east-1', 'us-west-2'], residency: 'gdpr' });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  const eu = async (ip: string) => (await app.api('get', `/v1/route?fqdn=app.example.com&client=${ip}`)).body;

  it('the sample clients are located in the EU by the bundled database, London is not', async () => {
    for (const ip of EU_CLIENTS) expect((await eu(ip)).client.jurisdiction).toBe('EU');
    expect((await eu('81.2.69.10')).client).toMatchObject({ country: 'GB', jurisdiction: 'GB' });
  });

  it('never answers an EU client of a gdpr service with a non-EU region: DNS (ECS), explain and redirects, even with EU regions down', async () => {
    const ecs = (ip: string) => `${ip.split('.').slice(0, 3).join('.')}.0/24`;
    const check = async () => {
      for (const ip of EU_CLIENTS) {
        const dns = await query(app.dnsPort, 'app.example.com', 'A', { subnet: ecs(ip) });
        expect(rcodeOf(dns)).toBe('NOERROR');
        expect(addresses(dns).every((a) => a.startsWith('198.51.100.'))).toBe(true);
        const explain = await eu(ip);
        expect(EU_REGIONS.has(explain.answer.region)).toBe(true);
        expect(explain.candidates.filter((c: { allowed: boolean; region: string }) => c.allowed).map((c: { region: string }) => c.region).sort()).toEqual([...EU_REGIONS].sort());
        const redirect = await app.http.get('/r/app.example.com/x').set('X-Forwarded-For', ip);
        expect(redirect.status).toBe(307);
        expect(EU_REGIONS.has(redirect.headers['x-georoute-region'])).toBe(true);
      }
    };
    await check();
    // All EU regions unhealthy: fail open inside the EU only.
    for (const r of EU_REGIONS) expect((await app.api('patch', `/v1/regions/${r}`, { weight: 100 })).status).toBe(200);
    await app.ds.query(`UPDATE regions SET drained = false`);
    const store = app.running.app.get((await import('../src/snapshot/snapshot.store')).SnapshotStore);
    const health = app.running.app.get((await import('../src/health/health.service')).HealthService);
    try {
      for (const r of EU_REGIONS) await health.onWebhook(r, false, 'test: down', undefined);
      await store.requestRebuild();
      await check();
      const explain = await eu(EU_CLIENTS[0]);
      expect(explain.reason).toBe('all-unhealthy-fail-open');
      expect(explain.detail).toMatch(/inside the EU/);
    } finally {
      for (const r of EU_REGIONS) await health.onWebhook(r, true, 'test: up', undefined);
      await store.requestRebuild();
    }
  });

  it('refuses an EU client when the gdpr service has no EU region: SERVFAIL with an Extended DNS Error, HTTP 503 with Retry-After', async () => {
    const q = dnsPacket.encode({
      type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'us-only.example.com', class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '80.12.0.0' }] } as never],
    });
    const reply = dnsPacket.decode(await sendUdp(app.dnsPort, q)) as unknown as { rcode: string; answers: unknown[]; additionals: { type: string; options: { code: number; data: Buffer }[] }[] };
    expect(reply.rcode).toBe('SERVFAIL');
    expect(reply.answers).toHaveLength(0);
    const ede = reply.additionals.find((a) => a.type === 'OPT')!.options.find((o) => o.code === 15)!;
    expect(ede).toBeDefined();
    expect(ede.data.readUInt16BE(0)).toBe(18);
    expect(ede.data.subarray(2).toString('utf8')).toMatch(/GDPR-resident and has no region in the EU jurisdiction/);

    const http = await app.http.get('/r/us-only.example.com/account').set('X-Forwarded-For', '80.12.0.1');
    expect(http.status).toBe(503);
    expect(http.headers['retry-after']).toBe('30');
    expect(http.headers['content-type']).toMatch(/problem\+json/);
    expect(http.body).toMatchObject({ reason: 'residency-no-eligible-region' });
    expect(http.body.detail).toMatch(/EU/);
    // A US client is served.
    expect(addresses(await query(app.dnsPort, 'us-only.example.com', 'A', { subnet: '8.8.8.0/24' }))).toEqual(['192.0.2.20']);
    expect((await app.http.get('/r/us-only.example.com/').set('X-Forwarded-For', '8.8.8.8')).status).toBe(307);
  });

  it('redirects any method with path, query and percent-encoding preserved, private caching and the reason', async () => {
    for (const method of ['get', 'post', 'put', 'delete', 'patch'] as const) {
      const res = await app.http[method]('/r/cdn.example.com/a%20b/c?x=1&y=%2F').set('X-Forwarded-For', '133.242.0.3');
      expect(res.status).toBe(307);
      expect(res.headers.location).toBe('https://ap-northeast-1.app.example.com/a%20b/c?x=1&y=%2F');
      expect(res.headers['cache-control']).toBe('private, max-age=30');
      expect(res.headers['x-georoute-region']).toBe('ap-northeast-1');
      expect(res.headers['x-georoute-reason']).toBe('nearest-healthy');
    }
    const head = await app.http.head('/r/cdn.example.com/').set('X-Forwarded-For', '133.242.0.3');
    expect(head.status).toBe(307);
    expect((await app.http.get('/r/nothing.example.com/')).status).toBe(404);
  });

  it('believes X-Forwarded-For only from trusted proxies, right-most untrusted first', async () => {
    // 127.0.0.1 is trusted here: the right-most untrusted address (Tokyo) is the client; the forged left one is ignored.
    const res = await app.http.get('/r/cdn.example.com/').set('X-Forwarded-For', '81.2.69.10, 133.242.0.3, 127.0.0.1');
    expect(res.headers['x-georoute-region']).toBe('ap-northeast-1');
  });

  // Sent with node:http as written (supertest would normalise backslashes before sending).
  const raw = (path: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: app.httpPort, path, headers: { 'X-Forwarded-For': '81.2.69.10' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });

  it.each([
    ['//evil.example/', 'https://eu-west-1.app.example.com//evil.example/'],
    ['/@evil.example', 'https://eu-west-1.app.example.com/@evil.example'],
    ['/a\\b', 'https://eu-west-1.app.example.com/a%5Cb'],
    ['/\\\\evil.example', 'https://eu-west-1.app.example.com/%5C%5Cevil.example'],
    ['/x?next=https://evil.example', 'https://eu-west-1.app.example.com/x?next=https://evil.example'],
    ['/caf%C3%A9/%E2%9C%93?q=%20', 'https://eu-west-1.app.example.com/caf%C3%A9/%E2%9C%93?q=%20'],
  ])('keeps the registered host for the hostile path %s', async (path, location) => {
    const res = await raw(`/r/cdn.example.com${path}`);
    expect(res.status).toBe(307);
    expect(res.headers.location).toBe(location);
    expect(new URL(res.headers.location!).host).toBe('eu-west-1.app.example.com');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it.each([
    ['/..', 400],
    ['/a/../../etc', 400],
    ['/%2e%2e/x', 400],
    ['/a%2fb', 400],
    ['/a%5c..%5cb', 400],
    ['/%0d%0aSet-Cookie:x=1', 400],
    ['/x%00y', 400],
    [`/${'a'.repeat(5000)}`, 414],
  ])('refuses the hostile path %s', async (path, status) => {
    const res = await raw(`/r/cdn.example.com${path}`);
    expect(res.status).toBe(status);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers the replication geofence and lists the jurisdictions', async () => {
    const check = (body: unknown) => app.api('post', '/v1/residency/replication-check', body);
    const personal = await check({ dataClass: 'personal', subjectJurisdiction: 'EU', sourceRegion: 'eu-west-1', targetRegions: ['eu-central-1', 'us-east-1'] });
    expect(personal.status).toBe(200);
    expect(personal.body).toMatchObject({ allowed: false, violations: [{ region: 'us-east-1', jurisdiction: 'US', rule: 'gdpr-eu-data-stays-in-eu' }] });
    expect((await check({ dataClass: 'pseudonymous', subjectJurisdiction: 'DE', sourceRegion: 'eu-west-1', targetRegions: ['eu-central-1'] })).body.allowed).toBe(true);
    expect((await check({ dataClass: 'pseudonymous', subjectJurisdiction: 'FR', sourceRegion: 'eu-west-1', targetRegions: ['ap-northeast-1'] })).body.allowed).toBe(false);
    expect((await check({ dataClass: 'anonymous', subjectJurisdiction: 'EU', sourceRegion: 'eu-west-1', targetRegions: ['us-east-1', 'sa-east-1'] })).body.allowed).toBe(true);
    expect((await check({ dataClass: 'personal', subjectJurisdiction: 'US', sourceRegion: 'us-east-1', targetRegions: ['ap-northeast-1'] })).body.allowed).toBe(true);
    const bad = await check({ dataClass: 'secret', subjectJurisdiction: 'XX', sourceRegion: 'mars-1', targetRegions: ['eu-west-1', 'nowhere'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['dataClass', 'subjectJurisdiction', 'sourceRegion', 'targetRegions[1]']);
    const j = await app.api('get', '/v1/residency/jurisdictions');
    expect(j.body.jurisdictions[0].code).toBe('EU');
    expect(j.body.jurisdictions[0].countries).toHaveLength(30);
    expect(j.body.jurisdictions[0].regions.sort()).toEqual(['eu-central-1', 'eu-west-1']);
    expect(j.body.jurisdictions.map((x: { code: string }) => x.code)).toEqual(['EU', 'BR', 'JP', 'US']);
  });
});
