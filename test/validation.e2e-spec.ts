import { createTestDatabase, startTestApp, loadFixture, dumpRegistry, TestApp, TestDatabase, FIXTURE } from './support/test-app';

const region = (over: Record<string, unknown>) => ({ ...FIXTURE.regions[0], name: 'eu-south-1', ...over });
const service = (over: Record<string, unknown>) => ({ fqdn: 'new.example.com', regions: ['eu-west-1'], ...over });

type Case = [title: string, method: 'post' | 'patch' | 'get', url: string, body: unknown, status: number, field: string];

/** Every bad request answers a problem document naming the field, and changes nothing. */
const CASES: Case[] = [
  ['unknown field on a zone', 'post', '/v1/zones', { ...FIXTURE.zone, name: 'a.test', isAdmin: true }, 400, 'isAdmin'],
  ['zone name with an empty label', 'post', '/v1/zones', { ...FIXTURE.zone, name: 'a..test' }, 400, 'name'],
  ['zone name label of 64 characters', 'post', '/v1/zones', { ...FIXTURE.zone, name: `${'a'.repeat(64)}.test` }, 400, 'name'],
  ['zone name of one label', 'post', '/v1/zones', { ...FIXTURE.zone, name: 'localhost' }, 400, 'name'],
  ['zone ttl below range', 'post', '/v1/zones', { ...FIXTURE.zone, name: 'b.test', ttl: 5 }, 400, 'ttl'],
  ['zone ttl as a string', 'post', '/v1/zones', { ...FIXTURE.zone, name: 'b.test', ttl: '30s' }, 400, 'ttl'],
  ['zone without nameservers', 'post', '/v1/zones', { ...FIXTURE.zone, name: 'b.test', nameservers: [] }, 400, 'nameservers'],
  ['zone patch changing the name', 'patch', '/v1/zones/example.com', { name: 'other.com' }, 400, 'name'],
  ['record outside the zone', 'post', '/v1/zones/example.com/records', { name: 'www.other.org.', type: 'A', values: ['192.0.2.1'] }, 400, 'name'],
  ['record with a bad IPv4 (leading zero)', 'post', '/v1/zones/example.com/records', { name: 'x', type: 'A', values: ['1.2.3.04'] }, 400, 'values[0]'],
  ['record with a hex IPv4', 'post', '/v1/zones/example.com/records', { name: 'x', type: 'A', values: ['0x7f.1'] }, 400, 'values[0]'],
  ['record AAAA with a zone index', 'post', '/v1/zones/example.com/records', { name: 'x', type: 'AAAA', values: ['fe80::1%eth0'] }, 400, 'values[0]'],
  ['record with an unknown type', 'post', '/v1/zones/example.com/records', { name: 'x', type: 'SPF', values: ['v=spf1'] }, 400, 'type'],
  ['record ttl of 2^31', 'post', '/v1/zones/example.com/records', { name: 'x', type: 'A', ttl: 2147483648, values: ['192.0.2.1'] }, 400, 'ttl'],
  ['record ttl negative', 'post', '/v1/zones/example.com/records', { name: 'x', type: 'A', ttl: -1, values: ['192.0.2.1'] }, 400, 'ttl'],
  ['CNAME at the apex', 'post', '/v1/zones/example.com/records', { name: '@', type: 'CNAME', values: ['other.example.org'] }, 400, 'type'],
  ['CNAME beside other data', 'post', '/v1/zones/example.com/records', { name: 'ns1', type: 'CNAME', values: ['other.example.org'] }, 400, 'type'],
  ['MX without a preference', 'post', '/v1/zones/example.com/records', { name: '@', type: 'MX', values: ['mail.example.com'] }, 400, 'values[0]'],
  ['wildcard not leftmost', 'post', '/v1/zones/example.com/records', { name: 'a.*.b', type: 'A', values: ['192.0.2.1'] }, 400, 'name'],
  ['non-LDH characters in a name', 'post', '/v1/zones/example.com/records', { name: 'ex ample', type: 'A', values: ['192.0.2.1'] }, 400, 'name'],
  ['region with an unassigned country code', 'post', '/v1/regions', region({ countryCode: 'XX' }), 400, 'countryCode'],
  ['region with a lower-case country code', 'post', '/v1/regions', region({ countryCode: 'ie' }), 400, 'countryCode'],
  ['region latitude out of range', 'post', '/v1/regions', region({ location: { latitude: 91, longitude: 0 } }), 400, 'location.latitude'],
  ['region longitude missing', 'post', '/v1/regions', region({ location: { latitude: 10 } }), 400, 'location.longitude'],
  ['region weight over 1000', 'post', '/v1/regions', region({ weight: 1001 }), 400, 'weight'],
  ['region with a malformed IPv4 endpoint', 'post', '/v1/regions', region({ endpoints: { ipv4: ['256.1.1.1'] } }), 400, 'endpoints.ipv4'],
  ['region with the unspecified address', 'post', '/v1/regions', region({ endpoints: { ipv4: ['0.0.0.0'] } }), 400, 'endpoints.ipv4'],
  ['region with a loopback endpoint', 'post', '/v1/regions', region({ endpoints: { ipv4: ['127.0.0.1'] } }), 400, 'endpoints.ipv4'],
  ['region with a bad IPv6 endpoint', 'post', '/v1/regions', region({ endpoints: { ipv6: ['2001:db8::g'] } }), 400, 'endpoints.ipv6'],
  ['region baseUrl with javascript:', 'post', '/v1/regions', region({ endpoints: { baseUrl: 'javascript:alert(1)' } }), 400, 'endpoints.baseUrl'],
  ['region with no endpoint at all', 'post', '/v1/regions', region({ endpoints: {} }), 400, 'endpoints'],
  ['region name with capitals', 'post', '/v1/regions', region({ name: 'EU-South' }), 400, 'name'],
  ['unknown nested field', 'post', '/v1/regions', region({ location: { latitude: 1, longitude: 2, altitude: 3 } }), 400, 'location.altitude'],
  ['health check timeout longer than the interval', 'post', '/v1/regions', region({ healthCheck: { type: 'http', target: 'http://192.0.2.1/', intervalSeconds: 5, timeoutMs: 6000 } }), 400, 'healthCheck.timeoutMs'],
  ['health check type unknown', 'post', '/v1/regions', region({ healthCheck: { type: 'icmp', target: '192.0.2.1' } }), 400, 'healthCheck.type'],
  ['tcp health check without a port', 'post', '/v1/regions', region({ healthCheck: { type: 'tcp', target: '192.0.2.1' } }), 400, 'healthCheck.target'],
  ['webhook secret too short', 'post', '/v1/regions', region({ webhookSecret: 'short' }), 400, 'webhookSecret'],
  ['region patch with a bad weight', 'patch', '/v1/regions/eu-west-1', { weight: -5 }, 400, 'weight'],
  ['service outside every zone', 'post', '/v1/services', service({ fqdn: 'app.nowhere.test' }), 400, 'fqdn'],
  ['service with an unknown region', 'post', '/v1/services', service({ regions: ['eu-west-1', 'mars-1'] }), 400, 'regions[1]'],
  ['service answerCount 9', 'post', '/v1/services', service({ answerCount: 9 }), 400, 'answerCount'],
  ['service ttl 0', 'post', '/v1/services', service({ ttl: 0 }), 400, 'ttl'],
  ['service with an unknown policy', 'post', '/v1/services', service({ policy: 'random' }), 400, 'policy'],
  ['service with an unknown residency', 'post', '/v1/services', service({ residency: 'ccpa' }), 400, 'residency'],
  ['geolocation policy without a map', 'post', '/v1/services', service({ policy: 'geolocation' }), 400, 'geolocation'],
  ['geolocation key that is no location', 'post', '/v1/services', service({ policy: 'geolocation', geolocation: { Europe: ['eu-west-1'] } }), 400, 'geolocation.Europe'],
  ['geolocation naming a region outside the service', 'post', '/v1/services', service({ policy: 'geolocation', geolocation: { DE: ['us-east-1'] } }), 400, 'geolocation.DE[0]'],
  ['service with duplicate regions', 'post', '/v1/services', service({ regions: ['eu-west-1', 'eu-west-1'] }), 400, 'regions'],
  ['service patch with an empty region list', 'patch', '/v1/services/app.example.com', { regions: [] }, 400, 'regions'],
  ['malformed JSON body', 'post', '/v1/zones', '{"name": ', 400, 'body'],
  ['list with a limit of 0', 'get', '/v1/zones?limit=0', undefined, 400, 'limit'],
  ['list with a forged cursor', 'get', '/v1/zones?cursor=!!!', undefined, 400, 'cursor'],
  ['explain with a bad client address', 'get', '/v1/route?fqdn=app.example.com&client=1.2.3', undefined, 400, 'client'],
];

describe('admin API: strict validation', () => {
  let db: TestDatabase;
  let app: TestApp;
  let before: unknown;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db);
    await loadFixture(app);
    before = await dumpRegistry(app.ds);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('has a table of at least 30 bad requests', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('%s (%s %s)', async (_title, method, url, body, status, field) => {
    let req = app.api(method, url);
    if (typeof body === 'string') req = req.set('Content-Type', 'application/json').send(body);
    else if (body !== undefined) req = req.send(body as object);
    const res = await req;
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.status).toBe(status);
    expect(res.body.detail).toContain(field);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await app.api('post', '/v1/zones', { ...FIXTURE.zone, name: 'big.test', hostmaster: 'x'.repeat(300 * 1024) });
    expect(res.status).toBe(413);
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });

  it('config/apply takes documents up to 32 MiB (a large registry in one document), and refuses larger ones', async () => {
    // 300 KiB, over the 256 KiB of the other routes: read and validated (a dry run changes nothing).
    const padded = { zones: [], regions: [], services: [], padding: 'x'.repeat(300 * 1024) };
    const big = await app.api('post', '/v1/config/apply?dryRun=true', padded);
    expect(big.status).toBe(400); // parsed: the unknown field is named, not a size refusal
    expect(JSON.stringify(big.body)).toMatch(/padding/);
    const huge = await app.api('post', '/v1/config/apply?dryRun=true', { zones: [], padding: 'x'.repeat(33 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });
});
