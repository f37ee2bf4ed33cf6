import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, REPO_ROOT, startTestApp, TestApp, TestDatabase, TEST_TOKEN } from './support/test-app';
import { dig } from './support/dns-client';

const ZONE_FILE = path.join(__dirname, 'fixtures/zones/example.org.zone');

/**
 * An export without its first line, which names the snapshot and the time it was made from: the
 * demo regions' health probes may move the snapshot on between two exports of the same zone.
 */
function records(exported: string): string {
  expect(exported.split('\n', 1)[0]).toMatch(/^; zone \S+ exported by georoute \(snapshot \d+, /);
  return exported.slice(exported.indexOf('\n') + 1);
}

/** POST /v1/zones/{name}/import and `georoute import`: a real BIND file, all or nothing, round trips. */
describe('zone import', () => {
  let db: TestDatabase;
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-import-'));
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const importText = (zone: string, text: string, query = '') =>
    app.http.post(`/v1/zones/${zone}/import${query}`).set('Authorization', `Bearer ${TEST_TOKEN}`).set('Content-Type', 'text/dns').send(text);

  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [path.join(REPO_ROOT, 'bin/georoute.js'), ...args], { env: { ...process.env, GEOROUTE_URL: `http://127.0.0.1:${app.httpPort}`, GEOROUTE_TOKEN: TEST_TOKEN } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('a dry run of a new zone checks every line and writes nothing (CLI)', async () => {
    const out = await cli(['import', ZONE_FILE, '--zone', 'example.org', '--dry-run']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toMatch(/zone example\.org \(new\): 23 record set\(s\) created, 0 updated, 0 deleted, 0 unchanged \(dry run, nothing written\)/);
    expect((await app.api('get', '/v1/zones/example.org')).status).toBe(404);
  });

  it('imports a real zone file with every supported type: the zone is created and DNS answers from it', async () => {
    const res = await importText('example.org', fs.readFileSync(ZONE_FILE, 'utf8'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ zone: 'example.org', zoneCreated: true, records: { created: 23, updated: 0, deleted: 0, unchanged: 0 }, skipped: [], serial: 1 });
    const zone = (await app.api('get', '/v1/zones/example.org')).body;
    expect(zone).toMatchObject({ nameservers: ['ns1.example.org', 'ns2.example.net'], hostmaster: 'hostmaster.example.org', ttl: 3600, refresh: 7200, retry: 900, expire: 1209600, negativeTtl: 300 });
    const short = async (...args: string[]) => dig(app.dnsPort, ['+short', ...args]);
    expect(await short('example.org', 'HTTPS')).toBe('1 . alpn="h2,h3" port=443 ipv4hint=192.0.2.1\n');
    expect(await short('_sip._udp.example.org', 'SRV')).toBe('10 60 5060 sip.example.org.\n');
    expect(await short('www.example.org', 'A')).toBe('shop.example.org.\n192.0.2.80\n');
    expect(await short('naptr.example.org', 'NAPTR')).toBe('100 10 "S" "SIP+D2U" "" _sip._udp.example.org.\n');
    expect(await short('deep.sub.example.org', 'TXT')).toBe('"a \\"quoted\\" word; caf\\195\\169"\n');
    expect(await short('anything.sub.example.org', 'A')).toBe('192.0.2.99\n');
    expect(await dig(app.dnsPort, ['+norec', 'child.example.org', 'DS'])).toMatch(/flags: qr aa/);
  });

  it('export -> import -> export is identical, and the import changes nothing (serial kept)', async () => {
    const first: string = (await app.api('get', '/v1/zones/example.org/export')).text;
    const again = await importText('example.org', first);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ zoneCreated: false, zoneChanged: false, records: { created: 0, updated: 0, deleted: 0, unchanged: 23 }, serial: 1 });
    expect(records((await app.api('get', '/v1/zones/example.org/export')).text)).toBe(records(first));
  });

  it('the demo zone with services round-trips with --skip-invalid: only the service lines are skipped', async () => {
    const first: string = (await app.api('get', '/v1/zones/example.com/export')).text;
    const file = path.join(dir, 'example.com.zone');
    fs.writeFileSync(file, first);
    const strict = await cli(['import', file, '--zone', 'example.com']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/400 Bad Request: line \d+: .*routed service/);
    expect(strict.stderr).toMatch(/\[service-name\]/);
    const out = await cli(['import', file, '--zone', 'example.com', '--skip-invalid']);
    expect(out.code).toBe(0);
    const skipped = out.stdout.split('\n').filter((l) => l.startsWith('skipped line'));
    const serviceLines = first.split('\n').filter((l) => /^(app|cdn|api|[a-z0-9-]+)\t\d+\tIN\t(A|AAAA)\t/.test(l) && !/^(ns1|ns2)\t/.test(l));
    expect(serviceLines.length).toBeGreaterThan(0);
    expect(skipped).toHaveLength(serviceLines.length);
    expect(out.stdout).toMatch(/0 record set\(s\) created, 0 updated, 0 deleted, \d+ unchanged; serial \d+/);
    expect(records((await app.api('get', '/v1/zones/example.com/export')).text)).toBe(records(first));
  });

  it('a file with bad lines is refused as a whole with each line and rule, and nothing changes', async () => {
    const before = (await app.api('get', '/v1/zones/example.org')).body.serial;
    const text = ['$ORIGIN example.org.', 'new1 300 IN A 192.0.2.1', 'bad 300 IN A 192.0.2.300', 'key 300 IN DNSKEY 257 3 13 abc', 'svc 300 IN HTTPS 1 . mandatory=port', 'x 300 IN DS 1 13 2 ' + 'ab'.repeat(32)].join('\n');
    const res = await importText('example.org', text);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.errors.map((e: { field: string; rule: string }) => `${e.field} ${e.rule}`)).toEqual(['line 3 ipv4', 'line 4 unsupported-type', 'line 5 svcb-mandatory', 'line 6 ds-delegation']);
    expect((await app.api('get', '/v1/zones/example.org')).body.serial).toBe(before);
    expect(await dig(app.dnsPort, ['+short', 'new1.example.org'])).toBe('');
  });

  it('--skip-invalid writes the valid lines; without an SOA the zone keeps its fields; missing sets are deleted', async () => {
    const text = ['$ORIGIN example.org.', 'new1 300 IN A 192.0.2.1', 'bad 300 IN A 192.0.2.300'].join('\n');
    const res = await importText('example.org', text, '?skipInvalid=true');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ zoneChanged: false, records: { created: 1, updated: 0, deleted: 23, unchanged: 0 }, skipped: [expect.objectContaining({ line: 3, rule: 'ipv4' })], serial: 2 });
    expect(await dig(app.dnsPort, ['+short', 'new1.example.org'])).toBe('192.0.2.1\n');
    expect((await app.api('get', '/v1/zones/example.org')).body.nameservers).toEqual(['ns1.example.org', 'ns2.example.net']);
  });

  it('refuses what cannot be imported at all: no body, no SOA for a new zone, unknown parameters', async () => {
    expect((await importText('example.net', '')).body.errors[0]).toMatchObject({ field: 'body', rule: 'zone-file' });
    expect((await importText('example.net', 'www 300 IN A 192.0.2.1')).body.errors[0]).toMatchObject({ field: 'file', rule: 'soa' });
    expect((await importText('example.org', 'www 300 IN A 192.0.2.1', '?force=true')).body.errors[0]).toMatchObject({ field: 'force', rule: 'unknown-parameter' });
    expect((await cli(['import', ZONE_FILE])).code).toBe(2);
  });
});
