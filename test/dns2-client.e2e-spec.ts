import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { GeoLocator } from '../src/geo/geo-locator';
import { DnsResponder } from '../src/dns/responder';
import { fixtureSnapshot } from '../src/dns/test-fixtures';
import { DnsServer } from '../src/dns/udp-server';
import { createTestDatabase, MAXMIND_TEST_DB, REPO_ROOT, startTestApp, TestApp, TestDatabase, TEST_TOKEN } from './support/test-app';
import { waitFor } from './support/dns-client';

/**
 * dns2 as georoute's DNS client, end to end. The `dns` health check: a region probed by asking
 * georoute's own DNS port a question, healthy while the answer matches, unhealthy when it does not,
 * and the validation of the check's fields. `georoute query`: the DNS answer beside the explain
 * API's decision for the same client, agreeing, and disagreeing when asked at another server.
 */
describe('dns health checks and georoute query', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', GEOIP_DB: MAXMIND_TEST_DB });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  const check = (over: Record<string, unknown> = {}) => ({
    type: 'dns',
    target: `127.0.0.1:${app.dnsPort}`,
    queryName: 'ns1.example.com',
    answerPattern: '^192\\.0\\.2\\.53$',
    intervalSeconds: 1,
    timeoutMs: 500,
    healthyThreshold: 1,
    unhealthyThreshold: 1,
    ...over,
  });
  const health = async () => (await app.api('get', '/v1/regions/eu-west-1/health')).body;

  it('is healthy while the DNS endpoint answers as expected (UDP, then TCP)', async () => {
    const res = await app.api('patch', '/v1/regions/eu-west-1', { healthCheck: check() });
    expect(res.status).toBe(200);
    expect(res.body.healthCheck).toMatchObject({ type: 'dns', queryName: 'ns1.example.com', queryType: 'A', transport: 'udp', expectRcode: 'NOERROR' });
    await waitFor('a passing dns probe', async () => (await health()).sources?.probe?.last?.ok === true, 8000, 50);
    expect((await health()).status).toBe('healthy');
    expect((await health()).sources.probe.last.reason).toBe('NOERROR, 1 answer');
    await app.api('patch', '/v1/regions/eu-west-1', { healthCheck: check({ transport: 'tcp', queryType: 'MX', queryName: 'example.com', answerPattern: undefined, expectRcode: 'NOERROR' }) }).expect(200);
    await waitFor('a passing tcp probe', async () => (await health()).sources?.probe?.last?.reason === 'NOERROR, 0 answers', 8000, 50);
  });

  it('turns unhealthy when the answer stops matching, with the reason', async () => {
    await app.api('patch', '/v1/regions/eu-west-1', { healthCheck: check({ answerPattern: '^10\\.' }) }).expect(200);
    await waitFor('unhealthy', async () => (await health()).status === 'unhealthy', 8000, 50);
    expect((await health()).reason).toMatch(/no answer matches/);
    await app.api('patch', '/v1/regions/eu-west-1', { healthCheck: check({ queryName: 'nope.example.com', expectRcode: 'NXDOMAIN', answerPattern: undefined }) }).expect(200);
    await waitFor('healthy again', async () => (await health()).status === 'healthy', 8000, 50);
  });

  it('validates the check: a question is required, the fields are dns-only, the pattern compiles', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [check({ queryName: undefined }), 'healthCheck.queryName', 'domain-name'],
      [check({ answerPattern: '(' }), 'healthCheck.answerPattern', 'regexp'],
      [check({ target: 'not-a-host-port' }), 'healthCheck.target', 'host-port'],
      [{ type: 'tcp', target: '127.0.0.1:443', queryName: 'x.example.com' }, 'healthCheck.queryName', 'dns-only'],
    ];
    for (const [body, field, rule] of cases) {
      const res = await app.api('patch', '/v1/regions/us-east-1', { healthCheck: body });
      expect({ status: res.status, error: res.body.errors?.[0] }).toEqual({ status: 400, error: expect.objectContaining({ field, rule }) });
    }
    expect((await app.api('patch', '/v1/regions/us-east-1', { healthCheck: check({ queryType: 'HTTPS' }) })).status).toBe(400);
  });

  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [path.join(REPO_ROOT, 'bin/georoute.js'), ...args], { env: { ...process.env, GEOROUTE_URL: `http://127.0.0.1:${app.httpPort}`, GEOROUTE_TOKEN: TEST_TOKEN, GEOROUTE_DNS: `127.0.0.1:${app.dnsPort}` } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('georoute query: a London client, the DNS answer and the explain decision agree', async () => {
    await app.api('patch', '/v1/regions/eu-west-1', { healthCheck: null }).expect(200);
    const out = await cli(['query', 'app.example.com', '--client', '81.2.69.160']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toMatch(/^DNS: {5}NOERROR aa, ECS scope \/27$/m);
    expect(out.stdout).toMatch(/^ {2}app\.example\.com\.\t30\tA\t198\.51\.100\.10$/m);
    expect(out.stdout).toMatch(/^explain: NOERROR, region eu-west-1 \(.+\): 198\.51\.100\.10, ttl 30, scope \/27$/m);
    expect(out.stdout).toMatch(/^agree: {3}yes$/m);
  });

  it('georoute query: IPv6 clients, a CNAME to a service, a static name', async () => {
    const v6 = await cli(['query', 'app.example.com', '--type', 'AAAA', '--client', '2001:218::1', '--server', `127.0.0.1:${app.dnsPort}`]);
    expect(v6.code).toBe(0);
    expect(v6.stdout).toMatch(/\tAAAA\t2001:db8:/);
    expect(v6.stdout).toMatch(/^agree: {3}yes$/m);
    const cname = await cli(['query', 'www.example.com', '--client', '81.2.69.160']);
    expect(cname.stdout).toMatch(/\tCNAME\tapp\.example\.com/);
    expect(cname.stdout).toMatch(/^agree: {3}yes$/m);
    const fixed = await cli(['query', 'ns1.example.com']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/ns1\.example\.com is not a routed service/);
  });

  it('georoute query: asked at a server with other data, the disagreement is flagged (exit 3)', async () => {
    const locator = await GeoLocator.open(MAXMIND_TEST_DB);
    const responder = new DnsResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
    const other = new DnsServer(responder, { host: '127.0.0.1', port: 0 });
    const { port } = await other.listen();
    try {
      const out = await cli(['query', 'app.example.com', '--client', '81.2.69.160', '--server', `127.0.0.1:${port}`]);
      expect(out.code).toBe(3);
      expect(out.stdout).toMatch(/^DISAGREE: addresses 192\.0\.2\.10, 192\.0\.2\.11 in DNS, 198\.51\.100\.10 in explain$/m);
    } finally {
      await other.close();
    }
  });

  it('georoute query: bad arguments are usage errors', async () => {
    expect((await cli(['query'])).code).toBe(2);
    expect((await cli(['query', 'app.example.com', '--client', 'nope'])).stderr).toMatch(/--client must be an IP address/);
    expect((await cli(['query', 'app.example.com', '--server', 'nope'])).stderr).toMatch(/--server must be HOST:PORT/);
  });
});
