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
    // A write name: answered by the engine (the primary's addresses), signed like any routed answer.
    const patched = await app.api('patch', '/v1/services/app.example.com', { replication: { mode: 'active-passive', primary: 'eu-west-1', writeFqdn: 'write.example.com' } });
    expect(patched.status).toBe(200);
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
        ['write.example.com', 'A'],
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
    const write = await unbound.dig(['+dnssec', '+subnet=175.16.199.0/24', 'write.example.com', 'A']);
    expect(write).toMatch(/flags: qr rd ra ad;/);
    expect(write).toMatch(/write\.example\.com\.\s+\d+\s+IN\s+A\s+198\.51\.100\.10/); // the primary, wherever the client is
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

/**
 * Rollovers under validation, with the waits shortened (DNSSEC_PARENT_DS_TTL=3600,
 * DNSSEC_TIMING_DIVISOR=1500: each step a few seconds). delv validates again and again while the
 * schedule walks the keys: with the DS set the parent holds (it follows the published CDS at
 * once), and with the DS set it held before (a resolver's cache) as long as that key is published.
 */
describe('DNSSEC rollovers: never a moment validation fails', () => {
  let db: TestDatabase;
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-rollover-e2e-'));
    db = await createTestDatabase();
    app = await startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB, DNSSEC_PARENT_DS_TTL: '3600', DNSSEC_TIMING_DIVISOR: '1500' });
    await loadFixture(app);
    expect((await app.api('post', '/v1/zones', { name: 'example.net', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.net' })).status).toBe(201);
    expect((await app.api('post', '/v1/zones/example.net/records', { name: 'www', type: 'A', values: ['192.0.2.44'] })).status).toBe(201);
  });

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  type KeyView = { id: string; role: string; state: string; keyTag: number; ds: string | null };
  const keysOf = async (zone: string): Promise<KeyView[]> => (await app.api('get', `/v1/zones/${zone}/dnssec`)).body.keys;
  const cdsOf = async (zone: string): Promise<string[]> =>
    (await dig(app.dnsPort, ['+short', zone, 'CDS'])).trim().split('\n').filter(Boolean).map((l) => l.replace(/ ([0-9A-F]+) ([0-9A-F]+)$/, ' $1$2')).sort();

  /** Walks one rollover to its end, validating all the way; returns the phases (key states) seen. */
  async function walk(zone: string, name: string, role: string): Promise<string[]> {
    const started = await app.api('post', `/v1/zones/${zone}/dnssec/rollover`, {});
    expect(started.status).toBe(200);
    const added = (started.body.keys as KeyView[]).find((k) => k.role === role && k.state === 'published')!;
    expect(added).toBeDefined();
    expect((started.body.keys as (KeyView & { next: { state: string } | null })[]).find((k) => k.id === added.id)!.next?.state).toBe('active');
    expect((await app.api('post', `/v1/zones/${zone}/dnssec/rollover`, {})).status).toBe(409);
    const initial = (started.body.keys as KeyView[]).filter((k) => k.ds !== null && k.state === 'active').map((k) => k.ds!);
    let parent = initial.slice().sort();
    let cached = parent;
    const phases: string[] = [];
    const until = Date.now() + 60_000;
    for (;;) {
      const keys = await keysOf(zone);
      const phase = keys.filter((k) => k.role === role).map((k) => (k.id === added.id ? `new:${k.state}` : `old:${k.state}`)).join(' ');
      if (phases.at(-1) !== phase) phases.push(phase);
      const cds = await cdsOf(zone);
      if (cds.length > 0 && cds.join() !== parent.join()) {
        cached = parent;
        parent = cds;
      }
      const published = new Set(keys.map((k) => k.keyTag));
      const anchors = [parent, ...(cached.every((d) => published.has(Number(d.split(' ')[0]))) ? [cached] : [])];
      for (const ds of anchors) {
        const anchor = writeAnchor(dir, zone, { ds });
        const yes = await delv(app.dnsPort, anchor, zone, name, 'A');
        expect(`${phase} with DS ${ds.join(', ')}: ${yes}`).toContain('; fully validated');
        const no = await delv(app.dnsPort, anchor, zone, `nope.${zone}`, 'A');
        expect(`${phase} with DS ${ds.join(', ')}: ${no}`).toContain('; negative response, fully validated');
      }
      if (phase === 'new:active') break;
      if (Date.now() > until) throw new Error(`rollover of ${zone} stuck at ${phase}`);
    }
    return phases;
  }

  test('CSK rollover: new key published with both DS in CDS, then it signs and the old one retires (CDS: new only), then the old one goes', async () => {
    expect((await app.api('post', '/v1/zones/example.com/dnssec', {})).status).toBe(201);
    const phases = await walk('example.com', 'app.example.com', 'csk');
    expect(phases).toEqual(['old:active new:published', 'old:retired new:active', 'new:active']);
    const keys = await keysOf('example.com');
    expect(keys).toHaveLength(1);
    expect((await cdsOf('example.com')).map((d) => Number(d.split(' ')[0]))).toEqual([keys[0].keyTag]);
    // A validating resolver that only knows the new DS (the parent after the rollover): AD.
    const resolver = await startUnbound(app.dnsPort, 'example.com', [keys[0].ds!]);
    try {
      expect(await resolver.dig(['+dnssec', '+subnet=81.2.69.160/27', 'app.example.com', 'A'])).toMatch(/flags: qr rd ra ad;/);
      expect(await resolver.dig(['+dnssec', 'gone.example.com', 'A'])).toMatch(/flags: qr rd ra ad;/);
    } finally {
      await resolver.stop();
    }
    const audit = await app.api('get', '/v1/audit?kind=dnssec&name=example.com');
    expect(audit.body.items.filter((i: { action: string; actor: string }) => i.action === 'transition' && i.actor === 'system')).toHaveLength(2);
  });

  test('ZSK rollover by pre-publication in a KSK + ZSK zone (Ed25519): the KSK and its DS never change', async () => {
    const enabled = await app.api('post', '/v1/zones/example.net/dnssec', { algorithm: 15, keys: 'ksk-zsk' });
    expect(enabled.status).toBe(201);
    const kskDs = enabled.body.ds;
    expect((await app.api('post', '/v1/zones/example.net/dnssec/rollover', { key: 'csk' })).status).toBe(400);
    const phases = await walk('example.net', 'www.example.net', 'zsk');
    expect(phases).toEqual(['old:active new:published', 'old:retired new:active', 'new:active']);
    expect((await app.api('get', '/v1/zones/example.net/dnssec')).body.ds).toEqual(kskDs);
  });

  test('KSK rollover in the same zone: both DS in CDS, then the new KSK alone; the ZSK untouched', async () => {
    const zskBefore = (await keysOf('example.net')).filter((k) => k.role === 'zsk');
    const walkKsk = async (): Promise<string[]> => {
      // walk() rolls the zone's default key (its ZSK): this one names the KSK.
      const started = await app.api('post', '/v1/zones/example.net/dnssec/rollover', { key: 'ksk' });
      expect(started.status).toBe(200);
      const cds = await waitFor('CDS with both KSKs', async () => {
        const now = await cdsOf('example.net');
        return now.length === 2 ? now : false;
      }, 5000, 50);
      const anchor = writeAnchor(dir, 'example.net', { ds: cds });
      const phases: string[] = [];
      const until = Date.now() + 60_000;
      for (;;) {
        const keys = (await keysOf('example.net')).filter((k) => k.role === 'ksk');
        const phase = keys.map((k) => k.state).join(' ');
        if (phases.at(-1) !== phase) phases.push(phase);
        // The parent holds both DS (it followed the CDS): every step validates with them.
        expect(`${phase}: ${await delv(app.dnsPort, anchor, 'example.net', 'www.example.net', 'A')}`).toContain('; fully validated');
        if (phase === 'active') break;
        if (Date.now() > until) throw new Error(`KSK rollover stuck at ${phase}`);
      }
      return phases;
    };
    expect(await walkKsk()).toEqual(['active published', 'retired active', 'active']);
    expect((await cdsOf('example.net'))).toHaveLength(1);
    expect((await keysOf('example.net')).filter((k) => k.role === 'zsk')).toEqual(zskBefore);
  });
});

/** DNS_WORKERS: the worker processes open the sealed keys from the snapshot and sign as the main process does. */
describe('DNSSEC with DNS_WORKERS=1: the worker signs with the same keys', () => {
  let db: TestDatabase;
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-dnssec-workers-'));
    db = await createTestDatabase();
    app = await startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB, DNS_WORKERS: '1' });
    await loadFixture(app);
  });

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('UDP answers from the worker and TCP answers from the main process both validate', async () => {
    const enabled = await app.api('post', `/v1/zones/${ZONE}/dnssec`, { algorithm: 15 });
    expect(enabled.status).toBe(201);
    await waitFor('signed UDP answers from the worker', async () => (await dig(app.dnsPort, ['+dnssec', 'app.example.com', 'A'])).includes('RRSIG'), 10_000, 50);
    const anchor = writeAnchor(dir, ZONE, { ds: enabled.body.ds });
    for (const extra of [[], ['+tcp']]) {
      expect(await delv(app.dnsPort, anchor, ZONE, 'app.example.com', 'A', extra)).toContain('; fully validated');
      expect(await delv(app.dnsPort, anchor, ZONE, 'nope.example.com', 'A', extra)).toContain('; negative response, fully validated');
    }
  });
});

// Two instances on one database need a PostgreSQL server (PGlite is one process): CI runs this
// with DATABASE_URL set, as it does test/multi-instance.e2e-spec.ts.
if (process.env.DATABASE_URL) {
  describe('DNSSEC on two instances of one PostgreSQL: both sign with the same keys', () => {
    let db: TestDatabase;
    let a: TestApp;
    let b: TestApp;
    let dir: string;
    const KEK = 'c0ffee'.repeat(10) + 'c0ff'; // 64 hex digits

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-dnssec-two-'));
      db = await createTestDatabase();
      a = await startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB, DNSSEC_KEY_ENCRYPTION_KEY: KEK, CHANGE_POLL_INTERVAL_MS: '300', INSTANCE_ID: 'dnssec-a' });
      await loadFixture(a);
      b = await startTestApp({ ...db, env: { ...db.env, DATA_DIR: path.join(dir, 'b') } }, { GEOIP_DB: MAXMIND_TEST_DB, DNSSEC_KEY_ENCRYPTION_KEY: KEK, CHANGE_POLL_INTERVAL_MS: '300', INSTANCE_ID: 'dnssec-b' });
    });

    afterAll(async () => {
      await b?.stop();
      await a?.stop();
      await db?.drop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    test('keys made through one instance sign the other one’s answers; delv validates both', async () => {
      const enabled = await a.api('post', `/v1/zones/${ZONE}/dnssec`, {});
      expect(enabled.status).toBe(201);
      const tag = enabled.body.keys[0].keyTag as number;
      for (const app of [a, b]) {
        const out = await waitFor('signed answers', async () => {
          const reply = await dig(app.dnsPort, ['+dnssec', 'app.example.com', 'A']);
          return reply.includes('RRSIG') ? reply : false;
        }, 10_000, 50);
        expect(out).toMatch(new RegExp(`RRSIG\\s+A 13 3 30 \\d+ \\d+ ${tag} example\\.com\\.`));
        const anchor = writeAnchor(dir, ZONE, { ds: enabled.body.ds });
        expect(await delv(app.dnsPort, anchor, ZONE, 'app.example.com', 'A')).toContain('; fully validated');
        expect(await delv(app.dnsPort, anchor, ZONE, 'nope.example.com', 'A')).toContain('; negative response, fully validated');
      }
    });
  });
}

/** The key-encryption key changed between two starts: the keys do not open, the zone goes out unsigned, and the log says why. */
describe('DNSSEC with another DNSSEC_KEY_ENCRYPTION_KEY after a restart', () => {
  let db: TestDatabase;
  let app: TestApp | null = null;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  test('served unsigned with a warning naming the zone; with the right key, signed again', async () => {
    const kek = (c: string) => c.repeat(64);
    app = await startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB, DNSSEC_KEY_ENCRYPTION_KEY: kek('a') });
    await loadFixture(app);
    expect((await app.api('post', `/v1/zones/${ZONE}/dnssec`, {})).status).toBe(201);
    await waitFor('signed answers', async () => (await dig(app!.dnsPort, ['+dnssec', 'app.example.com', 'A'])).includes('RRSIG'), 5000, 20);
    await app.stop();
    app = null;

    const warnings: string[] = [];
    const logger = { log: () => undefined, error: () => undefined, verbose: () => undefined, debug: () => undefined, warn: (m: unknown) => void warnings.push(String(m)) };
    app = await startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB, DNSSEC_KEY_ENCRYPTION_KEY: kek('b') }, logger);
    expect(await dig(app.dnsPort, ['+dnssec', 'app.example.com', 'A'])).not.toContain('RRSIG');
    expect(warnings.join('\n')).toMatch(/zone example\.com: DNSSEC keys unusable, served unsigned/);
    expect((await app.api('get', `/v1/zones/${ZONE}/dnssec`)).body.status).toBe('signed');
    await app.stop();
    app = null;

    app = await startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB, DNSSEC_KEY_ENCRYPTION_KEY: kek('a') });
    expect(await dig(app.dnsPort, ['+dnssec', 'app.example.com', 'A'])).toContain('RRSIG');
  });
});
