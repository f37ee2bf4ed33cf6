/**
 * SRV, HTTPS, SVCB, TLSA, PTR, NAPTR and DS over real sockets: what dig reads from our wire form
 * (its own decoder, in RFC 3597 hex and in presentation form) against dns-packet's encoder and
 * our master-file text, the additional-section processing, and DS at a delegation point.
 * dig is required (CI installs dnsutils): without it these tests fail, they are not skipped.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import * as dnsPacketModule from 'dns-packet';

/** dns-packet's per-type rdata encoders (exported, not in its typings). */
const dnsPacket = dnsPacketModule as unknown as Record<'srv' | 'ptr' | 'naptr' | 'ds' | 'tlsa', { encode(data: unknown): Buffer }>;
import { masterFileModernValue, type ModernRecordType } from '../common/modern-records';
import { GeoLocator } from '../geo/geo-locator';
import type { StaticRecordSnap } from '../routing/types';
import { DnsResponder } from './responder';
import { GEOIP_TEST_DB, fixtureInput, fixtureSnapshot } from './test-fixtures';
import { DnsServer } from './udp-server';

const run = promisify(execFile);
const DIG = ['/usr/bin/dig', '/usr/local/bin/dig'].find((p) => existsSync(p)) ?? null;
const DIGEST = '2bb183af5f22588179a53b0a98631fad1a292118a4f3c8e1d7b6a5c4d3e2f1a0';

const RECORDS: StaticRecordSnap[] = [
  { id: 'srv', name: '_sip._udp.example.com', type: 'SRV', ttl: 300, values: ['10 60 5060 sip.example.com', '20 0 5060 sip-backup.example.net'] },
  { id: 'sip4', name: 'sip.example.com', type: 'A', ttl: 300, values: ['192.0.2.60'] },
  { id: 'sip6', name: 'sip.example.com', type: 'AAAA', ttl: 300, values: ['2001:db8::60'] },
  { id: 'https-apex', name: 'example.com', type: 'HTTPS', ttl: 300, values: ['1 . alpn="h2,h3" port=443 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1'] },
  { id: 'https-svc', name: 'shop.example.com', type: 'HTTPS', ttl: 300, values: ['1 pool.example.com alpn="h2"', '2 pool2.example.com alpn="h2"'] },
  { id: 'pool', name: 'pool.example.com', type: 'A', ttl: 300, values: ['192.0.2.90'] },
  { id: 'https-app', name: 'app.example.com', type: 'HTTPS', ttl: 300, values: ['1 . alpn="h2"'] },
  { id: 'svcb', name: '_dns.example.com', type: 'SVCB', ttl: 300, values: ['1 doh.example.com alpn="h2" dohpath="/dns-query{?dns}"'] },
  { id: 'doh', name: 'doh.example.com', type: 'AAAA', ttl: 300, values: ['2001:db8::443'] },
  { id: 'tlsa', name: '_443._tcp.www.example.com', type: 'TLSA', ttl: 300, values: [`3 1 1 ${DIGEST}`] },
  { id: 'ptr', name: 'ptr.example.com', type: 'PTR', ttl: 300, values: ['www.example.com'] },
  { id: 'naptr', name: 'naptr.example.com', type: 'NAPTR', ttl: 300, values: ['100 10 "S" "SIP+D2U" "" _sip._udp.example.com'] },
  { id: 'ds', name: 'sub.example.com', type: 'DS', ttl: 3600, values: [`12345 13 2 ${DIGEST}`] },
];

/** The same rdata from dns-packet's encoder (RDLENGTH cut off), or null where it has none (SVCB, HTTPS). */
function otherEncoder(type: ModernRecordType, value: string): string | null {
  const f = value.split(' ');
  switch (type) {
    case 'SRV':
      return dnsPacket.srv.encode({ priority: +f[0], weight: +f[1], port: +f[2], target: f[3] }).subarray(2).toString('hex');
    case 'PTR':
      return dnsPacket.ptr.encode(value).subarray(2).toString('hex');
    case 'NAPTR':
      return dnsPacket.naptr.encode({ order: +f[0], preference: +f[1], flags: 'S', services: 'SIP+D2U', regexp: '', replacement: f[5] }).subarray(2).toString('hex');
    case 'TLSA':
      return dnsPacket.tlsa.encode({ usage: +f[0], selector: +f[1], matchingType: +f[2], certificate: Buffer.from(f[3], 'hex') }).subarray(2).toString('hex');
    case 'DS':
      return dnsPacket.ds.encode({ keyTag: +f[0], algorithm: +f[1], digestType: +f[2], digest: Buffer.from(f[3], 'hex') }).subarray(2).toString('hex');
    default:
      return null;
  }
}

let server: DnsServer;
let port: number;

beforeAll(async () => {
  const locator = await GeoLocator.open(GEOIP_TEST_DB);
  const base = fixtureInput();
  const zones = base.zones!.map((z) => ({ ...z, records: [...(z.records ?? []), ...RECORDS] }));
  const responder = new DnsResponder({ classifier: () => locator.classifier });
  responder.setSnapshot(fixtureSnapshot(1, { zones }));
  expect(responder.warnings).toEqual([]);
  server = new DnsServer(responder, { host: '127.0.0.1', port: 0 });
  ({ port } = await server.listen());
});

afterAll(async () => {
  await server?.close();
});

async function dig(...args: string[]): Promise<string> {
  if (DIG === null) throw new Error('dig is not installed (apt-get install dnsutils); the DNS interoperability tests need it');
  const { stdout } = await run(DIG, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', '+norec', ...args]);
  return stdout;
}

/** Lines of one section of dig's full output, as [owner, ttl, class, type, rdata]. */
function section(out: string, name: 'ANSWER' | 'AUTHORITY' | 'ADDITIONAL'): string[][] {
  const start = out.indexOf(`;; ${name} SECTION:`);
  if (start < 0) return [];
  const lines = out.slice(start).split('\n').slice(1);
  const end = lines.findIndex((l) => l.trim() === '');
  return lines.slice(0, end < 0 ? undefined : end).map((l) => {
    const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(l)!;
    return m.slice(1);
  });
}

describe('each type as dig reads it', () => {
  const values = RECORDS.filter((r) => !['A', 'AAAA'].includes(r.type)).flatMap((r) => r.values.map((v) => [r.type, r.name, v] as const));

  test.each(values)('%s %s: RFC 3597 octets = dns-packet encoder; presentation = our master-file text', async (type, name, value) => {
    const modern = type as ModernRecordType;
    const hexOut = await dig('+unknownformat', name, type);
    expect(hexOut).toMatch(/status: NOERROR/);
    const unknown = section(hexOut, 'ANSWER').map((l) => l[4]);
    const ours = unknown.map((u) => u.replace(/^\\# \d+ /, '').replace(/\s+/g, '').toLowerCase());
    const other = otherEncoder(modern, value);
    if (other !== null) expect(ours).toContain(other);
    // dig splits long hex into groups and, in 9.18, writes SvcParamKey 7 (dohpath, RFC 9461) as key7.
    const compact = (text: string): string => text.replace(/\s+/g, '').replace(/key7=/, 'dohpath=');
    const shown = section(await dig(name, type), 'ANSWER').map((l) => compact(l[4]));
    expect(shown).toContain(compact(masterFileModernValue(modern, value)));
  });

  test('flags: AA on every answer, the RRset whole', async () => {
    const out = await dig('shop.example.com', 'HTTPS');
    expect(/;; flags: ([a-z ]+);/.exec(out)?.[1].split(' ')).toContain('aa');
    expect(section(out, 'ANSWER')).toHaveLength(2);
  });
});

describe('additional-section processing', () => {
  test('SRV: the in-zone target A and AAAA follow; the out-of-zone one does not', async () => {
    const out = await dig('_sip._udp.example.com', 'SRV');
    expect(section(out, 'ADDITIONAL').filter((l) => l[3] !== 'OPT').map((l) => `${l[0]} ${l[3]} ${l[4]}`).sort()).toEqual([
      'sip.example.com. A 192.0.2.60',
      'sip.example.com. AAAA 2001:db8::60',
    ]);
  });

  test('HTTPS: target addresses in the zone; "." in ServiceMode means the owner (a service name: none, they vary by client)', async () => {
    expect(section(await dig('shop.example.com', 'HTTPS'), 'ADDITIONAL').map((l) => `${l[0]} ${l[3]} ${l[4]}`)).toEqual(['pool.example.com. A 192.0.2.90']);
    expect(section(await dig('app.example.com', 'HTTPS'), 'ADDITIONAL')).toEqual([]);
    const svcb = await dig('_dns.example.com', 'SVCB');
    expect(section(svcb, 'ADDITIONAL').map((l) => `${l[0]} ${l[3]} ${l[4]}`)).toEqual(['doh.example.com. AAAA 2001:db8::443']);
  });

  test('the service name still answers A from the engine beside its static HTTPS', async () => {
    expect(section(await dig('app.example.com', 'A'), 'ANSWER').map((l) => l[3])).toEqual(['A']);
  });
});

describe('DS at a delegation point', () => {
  test('answered by the parent with AA (not a referral); other types at the cut stay referrals', async () => {
    const ds = await dig('sub.example.com', 'DS');
    expect(/;; flags: ([a-z ]+);/.exec(ds)?.[1].split(' ')).toContain('aa');
    expect(section(ds, 'ANSWER').map((l) => l[4].replace(/\s+/g, ''))).toEqual([masterFileModernValue('DS', `12345 13 2 ${DIGEST}`).replace(/\s+/g, '')]);
    const a = await dig('sub.example.com', 'A');
    expect(section(a, 'ANSWER')).toEqual([]);
    expect(section(a, 'AUTHORITY').map((l) => l[3])).toEqual(['NS']);
  });

  test('a delegation without DS: NODATA with the parent SOA', async () => {
    const out = await dig('www.example.com', 'DS');
    expect(out).toMatch(/status: NOERROR/);
    expect(section(out, 'ANSWER')).toEqual([]);
    expect(section(out, 'AUTHORITY').map((l) => l[3])).toEqual(['SOA']);
  });
});
