import { addresses, dig, query, waitFor } from './support/dns-client';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';

/**
 * Measured-latency routing end to end (issue 19) on the demo configuration and the bundled geo
 * database: measurements through the API, aggregated in the database (PGlite, or PostgreSQL with
 * DATABASE_URL), compiled into the snapshot, answered by DNS (dig +subnet), redirects and explain.
 *
 * London's 81.2.69.0/24 is nearest to eu-west-1 (Dublin); the synthetic evidence says us-east-1
 * answers it faster.
 */
describe('latency policy end to end', () => {
  let db: TestDatabase;
  let app: TestApp;
  const tokens: Record<string, string> = {};
  const LONDON = '81.2.69.0/24';
  const BERLIN = '193.99.144.0/24';

  const feed = (who: string, measurements: object[]) =>
    app.http.post('/v1/measurements').set('Authorization', `Bearer ${tokens[who]}`).send({ measurements });
  const rows = (n: number, client: string, region: string, rttMs: number) => Array.from({ length: n }, () => ({ client, region, rttMs, observedAt: new Date().toISOString() }));
  const sampleCount = async () => Number((await app.ds.query('SELECT count(*) AS n FROM latency_samples'))[0].n);
  const compiledAt = async () => (await app.api('get', '/v1/measurements/summary?service=fast.example.com')).body.compiledAt as string | null;
  /** Waits for a compilation that started after the writes (the second one to finish from now; they run every 200 ms). */
  const compiled = async () => {
    let seen = await compiledAt();
    for (let i = 0; i < 2; i++) {
      const before = seen;
      seen = await waitFor('a compilation', async () => {
        const now = await compiledAt();
        return now !== null && now !== before ? now : undefined;
      }, 8000, 50);
    }
  };
  const short = async (fqdn: string, subnet: string) => (await dig(app.dnsPort, ['+short', fqdn, `+subnet=${subnet}`])).trim();

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, {
      CONFIG_FILE: '',
      LATENCY_COMPILE_INTERVAL_MS: '200',
      LATENCY_MIN_SAMPLES: '6',
      LATENCY_MIN_SOURCES: '3',
      TRUSTED_PROXIES: '127.0.0.0/8',
    });
    expect((await app.api('post', '/v1/services', { fqdn: 'fast.example.com', policy: 'latency', regions: ['eu-west-1', 'us-east-1', 'ap-northeast-1'], residency: 'none' })).status).toBe(201);
    expect((await app.api('post', '/v1/services', { fqdn: 'eu.example.com', policy: 'latency', regions: ['eu-west-1', 'eu-central-1', 'us-east-1'], residency: 'gdpr' })).status).toBe(201);
    for (const name of ['agent-a', 'agent-b', 'agent-c', 'attacker']) {
      const res = await app.api('post', '/v1/tokens', { name, scopes: ['measurements:report'] });
      expect(res.status).toBe(201);
      tokens[name] = res.body.token;
    }
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('accepts latency as a policy and answers by distance while there is no evidence, saying so', async () => {
    expect(await short('fast.example.com', LONDON)).toBe('198.51.100.10');
    const explain = await app.api('get', '/v1/route?fqdn=fast.example.com&client=81.2.69.7');
    expect(explain.body.reason).toBe('latency-distance-fallback');
    expect(explain.body.detail).toContain('too little trusted latency evidence');
    expect(explain.body.candidates.map((c: { region: string; latency: unknown }) => [c.region, c.latency])).toEqual([
      ['eu-west-1', { level: 'distance-fallback' }], ['us-east-1', { level: 'distance-fallback' }], ['ap-northeast-1', { level: 'distance-fallback' }],
    ]);
    expect((await app.api('post', '/v1/services', { fqdn: 'bad.example.com', policy: 'nearest', regions: ['eu-west-1'] })).status).toBe(400);
  });

  it('refuses bad batches with every problem named, storing nothing', async () => {
    const before = await sampleCount();
    const res = await feed('agent-a', [
      { client: '81.2.69.7', region: 'eu-west-1', rttMs: 20 },
      { client: '81.2.0.0/16', region: 'eu-west-1', rttMs: 20 },
      { client: 'not-an-ip', region: 'mars-1', rttMs: -3, extra: 1 },
      { client: '81.2.69.7', region: 'eu-west-1', rttMs: 20, observedAt: '2099-01-01T00:00:00Z' },
    ]);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const fields = (res.body.errors ?? res.body.fields ?? []).map((f: { field: string }) => f.field);
    expect(JSON.stringify(res.body)).toContain('a prefix must be /24 to /32');
    expect(fields).toEqual(expect.arrayContaining(['measurements[1].client', 'measurements[2].client', 'measurements[2].region', 'measurements[2].rttMs', 'measurements[2].extra', 'measurements[3].observedAt']));
    expect((await feed('agent-a', rows(501, LONDON, 'eu-west-1', 20))).status).toBe(413);
    expect((await app.http.post('/v1/measurements').send({ measurements: rows(1, LONDON, 'eu-west-1', 20) })).status).toBe(401);
    const reader = (await app.api('post', '/v1/tokens', { name: 'reader', scopes: ['read'] })).body.token;
    expect((await app.http.post('/v1/measurements').set('Authorization', `Bearer ${reader}`).send({ measurements: rows(1, LONDON, 'eu-west-1', 20) })).status).toBe(403);
    expect(await sampleCount()).toBe(before);
  });

  it('thin evidence (two sources) keeps distance, with the reason', async () => {
    for (const who of ['agent-a', 'agent-b']) {
      expect((await feed(who, [...rows(3, '81.2.69.7', 'us-east-1', 15), ...rows(3, '81.2.69.200', 'eu-west-1', 60)])).body).toEqual({ accepted: 6, stale: 0, rateLimited: 0 });
    }
    await compiled();
    expect(await short('fast.example.com', LONDON)).toBe('198.51.100.10');
    const explain = await app.api('get', '/v1/route?fqdn=fast.example.com&client=81.2.69.7');
    expect(explain.body.reason).toBe('latency-distance-fallback');
  });

  it('trusted evidence (three sources) sends the London /24 to the measured-faster region: DNS, redirects, explain', async () => {
    expect((await feed('agent-c', [...rows(3, LONDON, 'us-east-1', 15), ...rows(3, LONDON, 'eu-west-1', 60)])).status).toBe(202);
    await compiled();
    const out = await dig(app.dnsPort, ['fast.example.com', `+subnet=${LONDON}`]);
    expect(out).toMatch(/fast\.example\.com\.\s+30\s+IN\s+A\s+192\.0\.2\.10/);
    expect(out).toMatch(/CLIENT-SUBNET: 81\.2\.69\.0\/24\/24/);
    const explain = await app.api('get', '/v1/route?fqdn=fast.example.com&client=81.2.69.7');
    expect(explain.body.reason).toBe('lowest-latency');
    expect(explain.body.answer.regions).toEqual(['us-east-1']);
    expect(explain.body.candidates.slice(0, 2)).toEqual([
      expect.objectContaining({ region: 'us-east-1', chosen: true, latency: { level: '/24', rttMs: 15, samples: 9, sources: 3 } }),
      expect.objectContaining({ region: 'eu-west-1', chosen: false, latency: { level: '/24', rttMs: 60, samples: 9, sources: 3 } }),
    ]);
    expect(explain.body.candidates[2]).toMatchObject({ region: 'ap-northeast-1', latency: { level: 'distance-fallback' } });
    const redirect = await app.http.get('/r/fast.example.com/x').set('X-Forwarded-For', '81.2.69.7');
    expect([redirect.status, redirect.headers.location, redirect.headers['x-georoute-reason']]).toEqual([307, 'https://us-east-1.app.example.com/x', 'lowest-latency']);
    // AAAA follows the same evidence; a proximity service for the same client does not.
    expect(addresses(await query(app.dnsPort, 'fast.example.com', 'AAAA', { subnet: LONDON }))).toEqual(['2001:db8:1::10']);
    expect(await short('cdn.example.com', LONDON)).toBe('198.51.100.10');
  });

  it('IPv6 clients: evidence for a /48 routes DNS (ECS) and explain alike', async () => {
    for (const who of ['agent-a', 'agent-b', 'agent-c']) {
      expect((await feed(who, [...rows(3, '2a02:8070:1::/48', 'ap-northeast-1', 12), ...rows(3, '2a02:8070:1::9', 'us-east-1', 70)])).status).toBe(202);
    }
    await compiled();
    const explain = await app.api('get', '/v1/route?fqdn=fast.example.com&client=2a02:8070:1::77');
    expect(explain.body.reason).toBe('lowest-latency');
    expect(explain.body.candidates[0]).toMatchObject({ region: 'ap-northeast-1', latency: { level: '/48', rttMs: 12 } });
    expect(await short('fast.example.com', '2a02:8070:1::/48')).toBe('203.0.113.10');
    // Another /48 of the same /40: the roll-up.
    const rolled = await app.api('get', '/v1/route?fqdn=fast.example.com&client=2a02:8070:2::1');
    expect(rolled.body.candidates[0]).toMatchObject({ region: 'ap-northeast-1', latency: { level: '/40', rttMs: 12 } });
    expect(await short('fast.example.com', '2a02:8070:2::/48')).toBe('203.0.113.10');
  });

  it('a neighbouring /24 rolls up to the /20; the summary shows coverage per region', async () => {
    const explain = await app.api('get', '/v1/route?fqdn=fast.example.com&client=81.2.70.9');
    expect(explain.body.reason).toBe('lowest-latency');
    expect(explain.body.candidates[0]).toMatchObject({ region: 'us-east-1', latency: { level: '/20', rttMs: 15 } });
    expect(await short('fast.example.com', '81.2.70.0/24')).toBe('192.0.2.10');
    const summary = await app.api('get', '/v1/measurements/summary?service=fast.example.com');
    expect(summary.status).toBe(200);
    const byRegion = Object.fromEntries(summary.body.regions.map((r: { region: string }) => [r.region, r]));
    expect(byRegion['us-east-1']).toMatchObject({ samples: 18, sources: 3, networks: 2, trusted: { '/24': 1, '/20': 1, '/16': 1, '/48': 1, '/40': 1, '/32': 1 } });
    expect(byRegion['ap-northeast-1']).toMatchObject({ samples: 9, sources: 3, networks: 1, trusted: { '/48': 1 } });
    expect((await app.api('get', '/v1/measurements/summary?service=nope.example.com')).status).toBe(404);
    expect((await app.api('get', '/v1/measurements/summary')).status).toBe(400);
  });

  it('one source sending thousands of extreme samples moves nothing', async () => {
    let rateLimited = 0;
    for (let i = 0; i < 6; i++) {
      const res = await feed('attacker', [...rows(250, LONDON, 'eu-west-1', 1), ...rows(250, LONDON, 'us-east-1', 59000)]);
      expect(res.status).toBe(202);
      rateLimited += res.body.rateLimited;
    }
    expect(rateLimited).toBe(3000 - 600);
    await compiled();
    expect(await short('fast.example.com', LONDON)).toBe('192.0.2.10');
    const explain = await app.api('get', '/v1/route?fqdn=fast.example.com&client=81.2.69.7');
    expect(explain.body.reason).toBe('lowest-latency');
    expect(explain.body.candidates.slice(0, 2).map((c: { region: string; latency: { rttMs: number } }) => [c.region, c.latency.rttMs])).toEqual([['us-east-1', 15], ['eu-west-1', 60]]);
    const metrics = (await app.http.get('/metrics')).text;
    expect(metrics).toMatch(/georoute_measurements_rejected_total\{origin="feed",reason="rate-limited"\} 2400/);
    expect(metrics).toMatch(/georoute_measurements_rejected_total\{origin="feed",reason="invalid"\} \d+/);
    expect(metrics).toMatch(/georoute_measurements_accepted_total\{origin="feed"\} \d+/);
    expect(metrics).toMatch(/georoute_latency_table_entries\{level="\/24"\} \d+/);
  });

  it('stale measurements are counted and dropped', async () => {
    const res = await feed('agent-a', [{ client: LONDON, region: 'eu-west-1', rttMs: 20, observedAt: new Date(Date.now() - 48 * 3600000).toISOString() }]);
    expect(res.body).toEqual({ accepted: 0, stale: 1, rateLimited: 0 });
    expect((await app.http.get('/metrics')).text).toMatch(/georoute_measurements_stale_total\{origin="feed"\} 1/);
  });

  it('residency still wins: an EU client of a gdpr service never leaves the EU however fast', async () => {
    for (const who of ['agent-a', 'agent-b', 'agent-c']) {
      expect((await feed(who, [...rows(3, BERLIN, 'us-east-1', 1), ...rows(3, BERLIN, 'eu-west-1', 30), ...rows(3, BERLIN, 'eu-central-1', 45)])).status).toBe(202);
    }
    await compiled();
    expect(await short('eu.example.com', BERLIN)).toBe('198.51.100.10');
    const explain = await app.api('get', '/v1/route?fqdn=eu.example.com&client=193.99.144.7');
    expect(explain.body.reason).toBe('residency-eu-only');
    expect(explain.body.candidates.find((c: { region: string }) => c.region === 'us-east-1')).toMatchObject({ allowed: false, excludedBecause: 'residency', latency: { level: '/24', rttMs: 1 } });
    // The non-gdpr service follows the measurement out of the EU for the same client.
    expect(await short('fast.example.com', BERLIN)).toBe('192.0.2.10');
    // Drained or unhealthy EU regions: still never the US (fail-open stays inside the EU).
    expect((await app.api('patch', '/v1/regions/eu-west-1', { drained: true })).status).toBe(200);
    await waitFor('drain applied', async () => (await short('eu.example.com', BERLIN)) === '198.51.100.20', 4000, 50);
    expect((await app.api('patch', '/v1/regions/eu-west-1', { drained: false })).status).toBe(200);
  });

  it('no client address is stored whole', async () => {
    const stored = JSON.stringify(await app.ds.query('SELECT * FROM latency_samples'));
    for (const ip of ['81.2.69.7', '81.2.69.200', '193.99.144.7']) expect(stored).not.toContain(ip);
    const networks = await app.ds.query('SELECT DISTINCT family, network FROM latency_samples ORDER BY network');
    expect(networks.map((r: { family: number; network: string | number }) => [Number(r.family), Number(r.network)])).toEqual([
      [4, 81 * 65536 + 2 * 256 + 69], [4, 193 * 65536 + 99 * 256 + 144], [6, 0x2a02 * 2 ** 32 + 0x8070 * 65536 + 1],
    ]);
  });
});
