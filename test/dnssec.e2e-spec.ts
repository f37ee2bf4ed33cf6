import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, loadFixture, startTestApp, MAXMIND_TEST_DB, TestApp, TestDatabase } from './support/test-app';
import { dig, waitFor } from './support/dns-client';
import { delv, startUnbound, writeAnchor, type Unbound } from './support/validators';

const ZONE = 'example.com';

/**
 * DNSSEC end to end: the API signs a zone, DNS answers carry RRSIGs for DO=1 queries, and two
 * independent validators (delv with the zone's anchor, Unbound as a validating resolver) accept
 * positive answers from several client subnets, NODATA, compact NXDOMAIN, CNAME chains and the
 * write name; the way back to unsigned publishes CDS/CDNSKEY delete first. Runs on PGlite, or on
 * PostgreSQL when DATABASE_URL is set.
 */
describe('DNSSEC: keys over the API, answers validated by delv and Unbound', () => {
  let db: TestDatabase;
  let app: TestApp;
  let dir: string;
  let unbound: Unbound | null = null;
  let enabled: { dnskeyRecords: string[]; ds: string[]; keys: { dnskey: string; flags: number; ds: string | null }[]; status: string };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-dnssec-e2e-'));
    db = await createTestDatabase();
    app = await startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB });
    await loadFixture(app);
    for (const r of [
      { name: 'www', type: 'CNAME', values: ['app.example.com'] },
      { name: 'static', type: 'A', values: ['192.0.2.80'] },
      { name: 'alias', type: 'CNAME', values: ['static.example.com'] },
      { name: '@', type: 'MX', values: ['10 mail.example.com'] },
      { name: 'mail', type: 'A', values: ['192.0.2.25'] },
      { name: 'txt', type: 'TXT', values: ['"hello world"'] },
      // 26 addresses: 480 octets fit 512 unsigned, not with their RRSIG.
      { name: 'many', type: 'A', values: Array.from({ length: 26 }, (_, i) => `198.51.100.${i + 100}`) },
    ]) {
      const res = await app.api('post', `/v1/zones/${ZONE}/records`, r);
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await unbound?.stop();
    await app?.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an unsigned zone says so; bad requests change nothing', async () => {
    const before = await app.api('get', `/v1/zones/${ZONE}/dnssec`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ zone: ZONE, status: 'unsigned', keys: [], ds: [] });
    expect((await app.api('get', '/v1/zones/nope.test/dnssec')).status).toBe(404);
    const bad = await app.api('post', `/v1/zones/${ZONE}/dnssec`, { algorithm: 8 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.field ?? bad.body.detail).toMatch(/algorithm/);
    expect((await app.api('post', '/v1/zones/nope.test/dnssec', {})).status).toBe(404);
    expect((await app.api('delete', `/v1/zones/${ZONE}/dnssec`)).status).toBe(404);
    expect((await app.api('get', `/v1/zones/${ZONE}/dnssec`)).body.status).toBe('unsigned');
    expect(await dig(app.dnsPort, ['+dnssec', ZONE, 'DNSKEY'])).not.toMatch(/\tDNSKEY\t/);
  });

  test('POST signs the zone with one ECDSA P-256 CSK; the private key is never shown, and is sealed in the database', async () => {
    const res = await app.api('post', `/v1/zones/${ZONE}/dnssec`, {});
    expect(res.status).toBe(201);
    enabled = res.body;
    expect(enabled.status).toBe('signed');
    expect(enabled.keys).toHaveLength(1);
    expect(enabled.keys[0]).toMatchObject({ role: 'csk', algorithm: 13, algorithmName: 'ECDSAP256SHA256', flags: 257, state: 'active' });
    expect(enabled.ds).toHaveLength(1);
    expect(enabled.ds[0]).toMatch(/^\d+ 13 2 [0-9A-F]{64}$/);
    expect(JSON.stringify(enabled)).not.toMatch(/private|sealed|PRIVATE/);
    const rows: { private_key_sealed: string }[] = await app.ds.query('SELECT private_key_sealed FROM dnssec_keys');
    expect(rows).toHaveLength(1);
    expect(rows[0].private_key_sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await app.api('post', `/v1/zones/${ZONE}/dnssec`, {})).status).toBe(409);
    const got = await app.api('get', `/v1/zones/${ZONE}/dnssec`);
    expect(got.body.ds).toEqual(enabled.ds);
    await waitFor('the DNSKEY in DNS', async () => (await dig(app.dnsPort, ['+dnssec', ZONE, 'DNSKEY'])).includes('RRSIG'), 5000, 20);
  });

  test('RRSIGs only for DO=1, the DO bit copied, TC when signatures do not fit 512 octets', async () => {
    const plain = await dig(app.dnsPort, ['+noedns', 'static.example.com', 'A']);
    expect(plain).not.toContain('RRSIG');
    const noDo = await dig(app.dnsPort, ['static.example.com', 'A']);
    expect(noDo).not.toContain('RRSIG');
    expect(noDo).not.toMatch(/flags: do;/);
    const withDo = await dig(app.dnsPort, ['+dnssec', 'static.example.com', 'A']);
    expect(withDo).toMatch(/\tRRSIG\tA 13 3 300 /);
    expect(withDo).toMatch(/EDNS: version: 0, flags: do;/);
    const unsigned = await dig(app.dnsPort, ['+bufsize=512', '+ignore', 'many.example.com', 'A']);
    expect(unsigned).toMatch(/flags: qr aa rd;/);
    expect(unsigned).toMatch(/ANSWER: 26,/);
    const signed = await dig(app.dnsPort, ['+dnssec', '+bufsize=512', '+ignore', 'many.example.com', 'A']);
    expect(signed).toMatch(/flags: qr aa tc rd;/);
    expect(signed).toMatch(/ANSWER: 0,/);
    const overTcp = await dig(app.dnsPort, ['+dnssec', '+bufsize=512', '+tcp', 'many.example.com', 'A']);
    expect(overTcp).toMatch(/ANSWER: 27,/);
    expect(overTcp).toMatch(/\tRRSIG\tA 13 3 300 /);
  });

  test('delv: positive answers, the CNAME chains, NODATA and the compact NXDOMAIN are fully validated (DNSKEY and DS anchors)', async () => {
    const byKey = writeAnchor(dir, ZONE, { dnskeys: enabled.keys.filter((k) => k.flags === 257).map((k) => k.dnskey) });
    const byDs = writeAnchor(dir, ZONE, { ds: enabled.ds });
    for (const anchor of [byKey, byDs]) {
      for (const [name, type] of [
        [ZONE, 'SOA'], [ZONE, 'NS'], [ZONE, 'MX'], [ZONE, 'DNSKEY'], ['app.example.com', 'A'], ['app.example.com', 'AAAA'],
        ['www.example.com', 'A'], ['alias.example.com', 'A'], ['txt.example.com', 'TXT'], ['ns1.example.com', 'A'],
      ]) {
        const out = await delv(app.dnsPort, anchor, ZONE, name, type);
        expect(`${name} ${type}: ${out}`).toContain('; fully validated');
      }
      for (const [name, type] of [['static.example.com', 'AAAA'], ['app.example.com', 'MX'], ['nope.example.com', 'A'], ['a.b.c.nope.example.com', 'TXT']]) {
        const out = await delv(app.dnsPort, anchor, ZONE, name, type);
        expect(`${name} ${type}: ${out}`).toContain('; negative response, fully validated');
      }
    }
    const nx = await delv(app.dnsPort, byDs, ZONE, 'nope.example.com', 'A');
    expect(nx).toMatch(/nope\.example\.com\. NSEC \\000\.nope\.example\.com\. RRSIG NSEC (TYPE128|NXNAME)/);
  });

  test('Unbound validates (AD) the answers for clients in London, Tokyo and the US (ECS), NODATA and NXDOMAIN', async () => {
    unbound = await startUnbound(app.dnsPort, ZONE, enabled.ds);
    const cases: [string, string][] = [
      ['81.2.69.160/27', '198.51.100.10'], // London -> eu-west-1
      ['175.16.199.0/24', '203.0.113.10'], // Changchun -> ap-northeast-1
      ['149.101.100.0/24', '192.0.2.10'], // US -> us-east-1
    ];
    for (const [subnet, address] of cases) {
      const out = await unbound.dig(['+dnssec', `+subnet=${subnet}`, 'app.example.com', 'A']);
      expect(`${subnet}: ${out}`).toMatch(/flags: qr rd ra ad;/);
      expect(out).toMatch(new RegExp(`app\\.example\\.com\\.\\s+\\d+\\s+IN\\s+A\\s+${address.replace(/\./g, '\\.')}`));
      const chain = await unbound.dig(['+dnssec', `+subnet=${subnet}`, 'www.example.com', 'A']);
      expect(chain).toMatch(/flags: qr rd ra ad;/);
      expect(chain).toMatch(/www\.example\.com\.\s+\d+\s+IN\s+CNAME\s+app\.example\.com\./);
    }
    const nodata = await unbound.dig(['+dnssec', 'static.example.com', 'TXT']);
    expect(nodata).toMatch(/status: NOERROR/);
    expect(nodata).toMatch(/flags: qr rd ra ad;/);
    const nx = await unbound.dig(['+dnssec', 'does-not-exist.example.com', 'A']);
    expect(nx).toMatch(/status: NOERROR/);
    expect(nx).toMatch(/flags: qr rd ra ad;/);
  });

  test('Unbound with a DS of another key: SERVFAIL (the validation above can fail)', async () => {
    const [tag, alg, type, digest] = enabled.ds[0].split(' ');
    const wrong = `${tag} ${alg} ${type} ${digest.slice(0, -4)}${digest.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const bad = await startUnbound(app.dnsPort, ZONE, [wrong]);
    try {
      const out = await bad.dig(['+dnssec', 'static.example.com', 'A']);
      expect(out).toMatch(/status: SERVFAIL/);
      expect(out).not.toMatch(/flags: [a-z ]*ad[a-z ]*;/);
    } finally {
      await bad.stop();
    }
  });

  test('DELETE: first CDS/CDNSKEY delete while still signed (RFC 8078), then the keys go and answers are unsigned', async () => {
    const first = await app.api('delete', `/v1/zones/${ZONE}/dnssec`);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('unsigning');
    await waitFor('CDS delete', async () => (await dig(app.dnsPort, ['+short', ZONE, 'CDS'])).trim() === '0 0 0 00', 5000, 20);
    expect((await dig(app.dnsPort, ['+short', ZONE, 'CDNSKEY'])).trim()).toBe('0 3 0 AA==');
    const anchor = writeAnchor(dir, ZONE, { ds: enabled.ds });
    expect(await delv(app.dnsPort, anchor, ZONE, ZONE, 'CDS')).toContain('; fully validated');
    expect(await delv(app.dnsPort, anchor, ZONE, 'app.example.com', 'A')).toContain('; fully validated');
    const second = await app.api('delete', `/v1/zones/${ZONE}/dnssec`);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'unsigned', keys: [] });
    await waitFor('unsigned answers', async () => !(await dig(app.dnsPort, ['+dnssec', 'static.example.com', 'A'])).includes('RRSIG'), 5000, 20);
    expect((await app.ds.query('SELECT count(*)::int AS n FROM dnssec_keys'))[0].n).toBe(0);
    const audit = await app.api('get', '/v1/audit?kind=dnssec');
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((i: { action: string }) => i.action).sort()).toEqual(['create', 'delete', 'update']);
  });
});
