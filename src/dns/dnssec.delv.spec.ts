/**
 * Signed answers as independent validators see them: BIND's delv with the zone's DNSKEY as the
 * trust anchor (`+root=example.com`), over real UDP against the server with the example.com
 * fixture signed by keys made here. delv is required (bind9-dnsutils): missing, the tests fail.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { FLAGS_KSK, FLAGS_ZSK, dnskeyRdata, generateDnssecKey, keyTag, sealSecret, type DnssecAlgorithm } from '../common/dnssec-keys';
import { GeoLocator } from '../geo/geo-locator';
import type { DnssecKeySnap, ZoneDnssecSnap } from '../routing/types';
import { DnsResponder } from './responder';
import { GEOIP_TEST_DB, fixtureInput, fixtureSnapshot } from './test-fixtures';
import { DnsServer } from './udp-server';
import { PreSigner } from './pre-signer';
import type { DnssecSettings } from './dnssec-signer';
import { TYPE } from './wire/constants';
import { encodeQuery } from './wire/query-builder';

const run = promisify(execFile);
const KEK = randomBytes(32);

function key(role: DnssecKeySnap['role'], algorithm: DnssecAlgorithm, state: DnssecKeySnap['state'] = 'active', kek = KEK): DnssecKeySnap {
  const k = generateDnssecKey(algorithm);
  const flags = role === 'zsk' ? FLAGS_ZSK : FLAGS_KSK;
  const id = `${role}-${randomBytes(4).toString('hex')}`;
  return {
    id,
    role,
    algorithm,
    flags,
    keyTag: keyTag(dnskeyRdata(flags, algorithm, k.publicKey)),
    publicKey: k.publicKey.toString('base64'),
    privateKeySealed: sealSecret(kek, k.privateKeyDer, id),
    state,
    cds: role !== 'zsk' && state === 'active',
  };
}

/** A server answering the fixture zone signed with `dnssec`. */
async function serve(
  dnssec: ZoneDnssecSnap,
  settings: Partial<DnssecSettings> = {},
  zoneOverrides: Record<string, unknown> = {},
  presign: { done: () => void } | null = null,
): Promise<{ server: DnsServer; port: number; responder: DnsResponder; presigner: PreSigner | null }> {
  const locator = await GeoLocator.open(GEOIP_TEST_DB);
  const responder = new DnsResponder({
    classifier: () => locator.classifier,
    dnssec: { kek: KEK, validitySeconds: 14 * 86400, inceptionOffsetSeconds: 3600, ...settings },
  });
  let presigner: PreSigner | null = null;
  if (presign !== null) {
    const p = new PreSigner(responder, () => presign.done());
    responder.onSigningWork = () => p.start();
    presigner = p;
  }
  const input = fixtureInput();
  responder.setSnapshot(fixtureSnapshot(1, { zones: [{ ...input.zones[0], ...zoneOverrides, dnssec }] }));
  const server = new DnsServer(responder, { host: '127.0.0.1', port: 0 });
  const { port } = await server.listen();
  return { server, port, responder, presigner };
}

function requireTool(name: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  throw new Error(`${name} is not installed (apt-get install bind9-dnsutils unbound); the DNSSEC validation tests need it`);
}

/** delv with the zone's keys as a static trust anchor; resolves with stdout + stderr and the exit code. */
async function delv(port: number, anchorFile: string, name: string, type: string, extra: string[] = []): Promise<string> {
  const args = ['@127.0.0.1', '-p', String(port), '-a', anchorFile, '+root=example.com', '+nottl', ...extra, name, type];
  try {
    const { stdout, stderr } = await run(requireTool('delv'), args, { timeout: 20_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}\nexit: failed`;
  }
}

async function digAt(port: number, args: string[]): Promise<string> {
  const { stdout } = await run(requireTool('dig'), ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args]);
  return stdout;
}

function anchorFor(dir: string, keys: readonly DnssecKeySnap[]): string {
  const file = path.join(dir, `anchor-${randomBytes(3).toString('hex')}.conf`);
  const sep = keys.filter((k) => k.flags === FLAGS_KSK);
  const lines = sep.map((k) => `  example.com. static-key ${k.flags} 3 ${k.algorithm} "${k.publicKey}";`);
  writeFileSync(file, `trust-anchors {\n${lines.join('\n')}\n};\n`);
  return file;
}

describe.each([
  ['ECDSA P-256 CSK', [13, 'csk']],
  ['Ed25519 CSK', [15, 'csk']],
  ['ECDSA P-256 KSK + ZSK', [13, 'ksk-zsk']],
] as const)('delv validates %s', (_label, [algorithm, layout]) => {
  let dir: string;
  let server: DnsServer;
  let port: number;
  let anchor: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'georoute-dnssec-'));
    const keys = layout === 'csk' ? [key('csk', algorithm)] : [key('ksk', algorithm), key('zsk', algorithm)];
    ({ server, port } = await serve({ status: 'signed', keys }));
    anchor = anchorFor(dir, keys);
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['www.example.com', 'A'],
    ['example.com', 'SOA'],
    ['example.com', 'NS'],
    ['example.com', 'MX'],
    ['example.com', 'DNSKEY'],
    ['txt.example.com', 'TXT'],
    ['big.example.com', 'A'],
    ['app.example.com', 'A'],
    ['app.example.com', 'AAAA'],
    ['alias.example.com', 'A'],
    ['go.example.com', 'A'],
    ['go.example.com', 'AAAA'],
    ['x.wild.example.com', 'A'],
    ['Other.Wild.example.com', 'A'],
  ])('%s %s: fully validated', async (name, type) => {
    const out = await delv(port, anchor, name, type);
    expect(out).toContain('; fully validated');
    expect(out).not.toContain('resolution failed');
  });

  test.each([
    ['www.example.com', 'TXT'],
    ['example.com', 'AAAA'],
    ['a.b.example.com', 'A'],
    ['app.example.com', 'TXT'],
    ['sub.example.com', 'DS'],
    ['x.wild.example.com', 'TXT'],
  ])('NODATA %s %s: validated as a negative answer (compact denial)', async (name, type) => {
    const out = await delv(port, anchor, name, type, ['+vtrace']);
    expect(out).toMatch(/; negative response, fully validated/);
    expect(out).toMatch(/ncache nxrrset|NXRRSET|nxrrset/i);
  });

  test('a referral for DO=1 proves the delegation insecure: NS, then an NSEC at the cut (NS RRSIG NSEC) and its RRSIG', async () => {
    const reply = await digAt(port, ['+dnssec', '+norec', 'www.sub.example.com', 'A']);
    expect(reply).toMatch(/flags: qr rd;|flags: qr;/);
    expect(reply).toMatch(/sub\.example\.com\.\s+\d+\s+IN\s+NSEC\s+\\000\.sub\.example\.com\. NS RRSIG NSEC/);
    expect(reply).toMatch(/sub\.example\.com\.\s+\d+\s+IN\s+RRSIG\s+NSEC /);
    expect(await digAt(port, ['+norec', 'www.sub.example.com', 'A'])).not.toMatch(/NSEC/);
  });

  test.each([['nope.example.com'], ['Deeper.Nope.EXAMPLE.com']])('NXDOMAIN %s: a validated NODATA (RFC 9824) whose NSEC says NXNAME', async (name) => {
    const out = await delv(port, anchor, name, 'A', ['+vtrace']);
    expect(out).toMatch(/; negative response, fully validated/);
    expect(out).toMatch(/NSEC\s+\\000\.[^\s]+\s+RRSIG NSEC (TYPE128|NXNAME)/i);
  });
});

describe('delv refuses what does not validate (the tests above can fail)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'georoute-dnssec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a trust anchor of another key: no valid signature', async () => {
    const keys = [key('csk', 13)];
    const { server, port } = await serve({ status: 'signed', keys });
    try {
      const good = await delv(port, anchorFor(dir, keys), 'www.example.com', 'A');
      expect(good).toContain('; fully validated');
      const tampered = { ...keys[0], publicKey: key('csk', 13).publicKey };
      const out = await delv(port, anchorFor(dir, [tampered]), 'www.example.com', 'A');
      expect(out).not.toContain('fully validated');
      expect(out).toMatch(/resolution failed|no valid|insecurity proof failed|broken trust chain/);
    } finally {
      await server.close();
    }
  });

  test('signatures that expired (signed "30 days ago" for one day): validation fails', async () => {
    const keys = [key('csk', 13)];
    const { server, port } = await serve({ status: 'signed', keys }, { validitySeconds: 86400, now: () => Date.now() - 30 * 86400_000 });
    try {
      const out = await delv(port, anchorFor(dir, keys), 'www.example.com', 'A');
      expect(out).not.toContain('fully validated');
      expect(out).toMatch(/resolution failed|expired|no valid/);
    } finally {
      await server.close();
    }
  });

  test('a key sealed under another key-encryption key: the zone is served unsigned, with a warning', async () => {
    const keys = [key('csk', 13, 'active', randomBytes(32))];
    const { server, port, responder } = await serve({ status: 'signed', keys });
    try {
      expect(responder.warnings.join('\n')).toMatch(/DNSSEC keys unusable, served unsigned/);
      const out = await delv(port, anchorFor(dir, keys), 'www.example.com', 'A');
      expect(out).not.toContain('fully validated');
    } finally {
      await server.close();
    }
  });
});

describe('compact denials under response rate limiting', () => {
  test('a client over its error limit gets no new signature over UDP (SERVFAIL for the limiter to drop or slip); TCP and cached names as usual', async () => {
    const keys = [key('csk', 13)];
    const { server, responder } = await serve({ status: 'signed', keys });
    try {
      const peer = { address: '198.51.100.7', family: 4 as const };
      const ask = (name: string, transport: 'udp' | 'tcp'): Buffer => responder.respond(encodeQuery({ name, qtype: TYPE.A, edns: { flags: 0x8000 } }), peer, transport)!;
      const nscount = (b: Buffer): number => b.readUInt16BE(8);
      const cached = ask('cached.example.com', 'udp');
      expect([cached[3] & 0x0f, nscount(cached)]).toEqual([0, 4]);
      const asked: string[] = [];
      responder.negativeGate = (address) => {
        asked.push(address);
        return true;
      };
      const limited = ask('flood-1.example.com', 'udp');
      expect(limited[3] & 0x0f).toBe(2); // SERVFAIL, unsigned: RRL drops or slips it
      expect(nscount(limited)).toBe(0);
      expect(asked).toEqual(['198.51.100.7']);
      expect(nscount(ask('cached.example.com', 'udp'))).toBe(4); // made before: no signing needed
      const overTcp = ask('flood-1.example.com', 'tcp'); // TCP is not rate limited
      expect([overTcp[3] & 0x0f, nscount(overTcp)]).toEqual([0, 4]);
      responder.negativeGate = () => false;
      expect(nscount(ask('flood-2.example.com', 'udp'))).toBe(4);
    } finally {
      await server.close();
    }
  });
});

describe('signatures made anew before they expire', () => {
  test('halfway through the window maintain() swaps the signers: new inception, still validated, nothing re-signed until asked', async () => {
    let clock = Date.now() - 8 * 86400_000; // built "8 days ago" with a 14-day window
    const keys = [key('csk', 13)];
    const { server, port, responder } = await serve({ status: 'signed', keys }, { now: () => clock });
    const dir = mkdtempSync(path.join(tmpdir(), 'georoute-dnssec-'));
    try {
      const inception = (out: string): string => /RRSIG\s+A 13 3 300 \d+ (\d+) /.exec(out)?.[1] ?? 'none';
      const before = inception(await digAt(port, ['+dnssec', 'www.example.com', 'A']));
      expect(before).toMatch(/^\d{14}$/);
      expect(responder.maintain(clock + 86400_000)).toBe(false); // day 1 of 14: nothing to do
      clock = Date.now();
      expect(responder.maintain()).toBe(true);
      const after = inception(await digAt(port, ['+dnssec', 'www.example.com', 'A']));
      expect(after).toMatch(/^\d{14}$/);
      expect(after > before).toBe(true);
      expect(responder.maintain()).toBe(false);
      const anchor = anchorFor(dir, keys);
      expect(await delv(port, anchor, 'www.example.com', 'A')).toContain('; fully validated');
      expect(await delv(port, anchor, 'app.example.com', 'A')).toContain('; fully validated');
      expect(await delv(port, anchor, 'nope.example.com', 'A')).toContain('; negative response, fully validated');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('canonical form (RFC 4034 §6.2): names in RDATA validated whatever their case on the wire', () => {
  test('an RNAME with capitals in its local part, upper-case targets of MX, SRV, NAPTR and PTR', async () => {
    const keys = [key('csk', 13)];
    const records = [
      ...fixtureInput().zones[0].records!,
      { id: 'srv', name: '_sip._udp.example.com', type: 'SRV' as const, ttl: 300, values: ['10 5 5060 SIP.Example.COM.', '10 5 5061 sip2.example.com.'] },
      { id: 'naptr', name: 'naptr.example.com', type: 'NAPTR' as const, ttl: 300, values: ['100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .', '100 20 "S" "SIP+D2U" "" _SIP._UDP.Example.COM.'] },
      { id: 'ptr', name: 'ptr.example.com', type: 'PTR' as const, ttl: 300, values: ['Host.EXAMPLE.com.'] },
      { id: 'mx2', name: 'mx.example.com', type: 'MX' as const, ttl: 300, values: ['10 MAIL.Example.com', '20 backup.EXAMPLE.com'] },
    ];
    const { server, port, responder } = await serve({ status: 'signed', keys }, {}, { hostmaster: 'Host.Master@Example.COM', records });
    const dir = mkdtempSync(path.join(tmpdir(), 'georoute-dnssec-'));
    try {
      expect(responder.warnings.filter((w) => /srv|naptr|ptr|mx\./i.test(w))).toEqual([]);
      const anchor = anchorFor(dir, keys);
      for (const [name, type] of [['example.com', 'SOA'], ['_sip._udp.example.com', 'SRV'], ['naptr.example.com', 'NAPTR'], ['ptr.example.com', 'PTR'], ['mx.example.com', 'MX']]) {
        expect(`${name} ${type}: ${await delv(port, anchor, name, type)}`).toContain('; fully validated');
      }
      expect(await delv(port, anchor, 'nope.example.com', 'A')).toContain('; negative response, fully validated');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the query-path signing budget (DNSSEC_ONLINE_SIGNATURES_PER_SECOND)', () => {
  test('new names beyond the budget get SERVFAIL; names already signed, positive answers and TCP-free budget checks as usual', async () => {
    const keys = [key('csk', 13)];
    const { server, responder } = await serve({ status: 'signed', keys }, { onlineSignaturesPerSecond: 2 });
    try {
      const peer = { address: '198.51.100.7', family: 4 as const };
      const rcode = (name: string): number => responder.respond(encodeQuery({ name, qtype: TYPE.A, edns: { flags: 0x8000 } }), peer, 'udp')![3] & 0x0f;
      expect([rcode('n1.example.com'), rcode('x1.wild.example.com')]).toEqual([0, 0]); // the budget: 2
      expect([rcode('n2.example.com'), rcode('x2.wild.example.com')]).toEqual([2, 2]); // spent: SERVFAIL
      expect([rcode('n1.example.com'), rcode('x1.wild.example.com'), rcode('www.example.com')]).toEqual([0, 0, 0]); // made before / prepared
      expect(responder.zoneView!.signingRefused).toBe(2);
      await new Promise((r) => setTimeout(r, 600)); // refills at 2 per second
      expect(rcode('n3.example.com')).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('answers signed ahead by the PreSigner', () => {
  test('validated after the pre-signer ran and after a re-signing in the background, with no positive answer signed on the query path', async () => {
    let clock = Date.now() - 8 * 86400_000;
    const keys = [key('csk', 13)];
    let passes = 0;
    let waiting: (() => void) | null = null;
    const presign = {
      done: (): void => {
        passes++;
        const w = waiting;
        waiting = null;
        w?.();
      },
    };
    const { server, port, responder, presigner } = await serve({ status: 'signed', keys }, { now: () => clock }, {}, presign);
    const settled = async (): Promise<void> => {
      while (presigner!.busy) await new Promise<void>((resolve) => (waiting = resolve));
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'georoute-dnssec-'));
    const positives = [
      ['www.example.com', 'A'],
      ['example.com', 'SOA'],
      ['example.com', 'DNSKEY'],
      ['example.com', 'NS'],
      ['alias.example.com', 'A'],
      ['app.example.com', 'A'],
      ['app.example.com', 'AAAA'],
      ['go.example.com', 'A'],
    ];
    try {
      await settled();
      expect(passes).toBeGreaterThanOrEqual(1);
      const anchor = anchorFor(dir, keys);
      const query = responder.stats().dnssecSignatures.query;
      for (const [name, type] of positives) expect(`${name} ${type}: ${await delv(port, anchor, name, type)}`).toContain('; fully validated');
      expect(responder.stats().dnssecSignatures.query).toBe(query);
      clock = Date.now();
      expect(responder.maintain()).toBe(true);
      // While the new signatures are made, the old ones (valid for half a window more) are served.
      expect(await delv(port, anchor, 'www.example.com', 'A')).toContain('; fully validated');
      await settled();
      expect(responder.zoneView!.resigning).toBe(false);
      for (const [name, type] of positives) expect(`${name} ${type}: ${await delv(port, anchor, name, type)}`).toContain('; fully validated');
      // NODATA at existing names: one compact denial per name, signed ahead too.
      for (const [name, type] of [['www.example.com', 'TXT'], ['a.b.example.com', 'A'], ['sub.example.com', 'DS']]) {
        expect(`${name} ${type}: ${await delv(port, anchor, name, type)}`).toContain('; negative response, fully validated');
      }
      expect(responder.stats().dnssecSignatures.query).toBe(query);
      expect(await delv(port, anchor, 'nope.example.com', 'A')).toContain('; negative response, fully validated');
    } finally {
      presigner!.stop();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
