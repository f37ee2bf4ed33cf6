import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { dig } from './support/dns-client';

const run = promisify(execFile);
const DIGEST = '2bb183af5f22588179a53b0a98631fad1a292118a4f3c8e1d7b6a5c4d3e2f1a0';

/** SRV, HTTPS, SVCB, TLSA, PTR, NAPTR and DS through the API, DNS and both exports (demo configuration). */
describe('record types SRV, HTTPS, SVCB, TLSA, PTR, NAPTR, DS end to end', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  const GOOD: ReadonlyArray<{ name: string; type: string; values: string[]; stored: string[] }> = [
    { name: '_sip._udp', type: 'SRV', values: ['10 60 5060 SIP.example.com.'], stored: ['10 60 5060 sip.example.com'] },
    { name: 'sip', type: 'A', values: ['192.0.2.60'], stored: ['192.0.2.60'] },
    { name: '@', type: 'HTTPS', values: ['1 . port=443 alpn=h2,h3 ipv4hint=192.0.2.1'], stored: ['1 . alpn="h2,h3" port=443 ipv4hint=192.0.2.1'] },
    { name: '_dns', type: 'SVCB', values: ['1 doh.example.com alpn=h2 dohpath=/dns-query{?dns}'], stored: ['1 doh.example.com alpn="h2" dohpath="/dns-query{?dns}"'] },
    { name: '_443._tcp.www', type: 'TLSA', values: [`3 1 1 ${DIGEST}`], stored: [`3 1 1 ${DIGEST.toUpperCase()}`] },
    { name: 'ptr', type: 'PTR', values: ['app.example.com.'], stored: ['app.example.com'] },
    { name: 'naptr', type: 'NAPTR', values: ['100 10 "s" "SIP+D2U" "" _sip._udp.example.com.'], stored: ['100 10 "S" "SIP+D2U" "" _sip._udp.example.com'] },
    { name: 'child', type: 'NS', values: ['ns.child.example.com'], stored: ['ns.child.example.com'] },
    { name: 'child', type: 'DS', values: [`12345 13 2 ${DIGEST}`], stored: [`12345 13 2 ${DIGEST.toUpperCase()}`] },
  ];

  it('stores each type in canonical form and serves it (dig)', async () => {
    for (const r of GOOD) {
      const res = await app.api('post', '/v1/zones/example.com/records', { name: r.name, type: r.type, values: r.values });
      expect({ type: r.type, status: res.status, values: res.body.values }).toEqual({ type: r.type, status: 201, values: r.stored });
    }
    expect(await dig(app.dnsPort, ['+short', '_sip._udp.example.com', 'SRV'])).toBe('10 60 5060 sip.example.com.\n');
    expect(await dig(app.dnsPort, ['+short', 'example.com', 'HTTPS'])).toBe('1 . alpn="h2,h3" port=443 ipv4hint=192.0.2.1\n');
    expect(await dig(app.dnsPort, ['+short', 'ptr.example.com', 'PTR'])).toBe('app.example.com.\n');
    expect(await dig(app.dnsPort, ['+short', 'naptr.example.com', 'NAPTR'])).toBe('100 10 "S" "SIP+D2U" "" _sip._udp.example.com.\n');
    const ds = await dig(app.dnsPort, ['+norec', 'child.example.com', 'DS']);
    expect(ds).toMatch(/flags: qr aa/);
    const srv = await dig(app.dnsPort, ['_sip._udp.example.com', 'SRV']);
    expect(srv).toMatch(/;; ADDITIONAL SECTION:\nsip\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.60/);
  });

  it('refuses a bad value with 400 naming the field and the rule, and writes nothing', async () => {
    const serial = (await app.api('get', '/v1/zones/example.com')).body.serial;
    const BAD: ReadonlyArray<{ name: string; type: string; values: string[]; field: string; rule: string }> = [
      { name: 'x', type: 'SRV', values: ['10 5 99999 sip.example.com'], field: 'values[0]', rule: 'srv' },
      { name: 'x', type: 'HTTPS', values: ['1 . alpn=h2', '0 . port=443'], field: 'values[1]', rule: 'svcb-alias-params' },
      { name: 'x', type: 'HTTPS', values: ['1 . mandatory=port alpn=h2'], field: 'values[0]', rule: 'svcb-mandatory' },
      { name: 'x', type: 'SVCB', values: ['1 . ipv6hint=192.0.2.1'], field: 'values[0]', rule: 'svcb-ipv6hint' },
      { name: 'x', type: 'TLSA', values: ['3 1 1 abcd'], field: 'values[0]', rule: 'tlsa-data' },
      { name: 'x', type: 'NAPTR', values: ['100 10 "S" "SIP+D2U" "!a!b!" _sip._udp.example.com'], field: 'values[0]', rule: 'naptr-regexp-replacement' },
      { name: 'x', type: 'PTR', values: ['not a name'], field: 'values[0]', rule: 'ptr' },
      { name: 'x', type: 'DS', values: [`12345 13 1 ${DIGEST}`], field: 'values[0]', rule: 'ds-digest' },
      { name: '@', type: 'DS', values: [`12345 13 2 ${DIGEST}`], field: 'name', rule: 'ds-apex' },
      { name: 'nochild', type: 'DS', values: [`12345 13 2 ${DIGEST}`], field: 'name', rule: 'ds-delegation' },
    ];
    for (const b of BAD) {
      const res = await app.api('post', '/v1/zones/example.com/records', { name: b.name, type: b.type, values: b.values });
      expect({ type: b.type, status: res.status, content: res.headers['content-type'] }).toEqual({ type: b.type, status: 400, content: expect.stringMatching(/problem\+json/) });
      expect(res.body.errors).toEqual([expect.objectContaining({ field: b.field, rule: b.rule })]);
      expect(res.body.detail).toContain(b.field);
    }
    expect((await app.api('get', '/v1/zones/example.com')).body.serial).toBe(serial);
  });

  it('exports every type in the BIND master file (named-checkzone loads it) and in the YAML document', async () => {
    const text: string = (await app.api('get', '/v1/zones/example.com/export')).text;
    expect(text).toMatch(/^_sip\._udp\t300\tIN\tSRV\t10 60 5060 sip\.example\.com\.$/m);
    expect(text).toMatch(/^@\t300\tIN\tHTTPS\t1 \. alpn="h2,h3" port=443 ipv4hint=192\.0\.2\.1$/m);
    expect(text).toMatch(/^_dns\t300\tIN\tSVCB\t1 doh\.example\.com\. alpn="h2" dohpath="\/dns-query\{\?dns\}"$/m);
    expect(text).toMatch(/^naptr\t300\tIN\tNAPTR\t100 10 "S" "SIP\+D2U" "" _sip\._udp\.example\.com\.$/m);
    expect(text).toMatch(/^ptr\t300\tIN\tPTR\tapp\.example\.com\.$/m);
    expect(text).toMatch(new RegExp(`^child\\t300\\tIN\\tDS\\t12345 13 2 ${DIGEST.toUpperCase()}$`, 'm'));
    expect(text).toMatch(new RegExp(`^_443\\._tcp\\.www\\t300\\tIN\\tTLSA\\t3 1 1 ${DIGEST.toUpperCase()}$`, 'm'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-zone-'));
    try {
      fs.writeFileSync(path.join(dir, 'example.com.zone'), text);
      const { stdout } = await run('named-checkzone', ['-i', 'local', 'example.com', path.join(dir, 'example.com.zone')]);
      expect(stdout).toMatch(/OK/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const doc = (await app.api('get', '/v1/config/export')).body;
    const records = doc.zones.find((z: { name: string }) => z.name === 'example.com').records as { name: string; type: string; values: string[] }[];
    for (const r of GOOD) expect(records).toContainEqual(expect.objectContaining({ name: r.name, type: r.type, values: r.stored }));
  });
});
