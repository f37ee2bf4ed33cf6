import * as dnsPacket from 'dns-packet';
import { GeoLocator } from '../geo/geo-locator';
import { decide } from '../routing/engine';
import { buildSnapshot, withRegionHealth } from '../routing/snapshot';
import type { RoutingSnapshot } from '../routing/types';
import { DnsResponder, type Classifier, type PeerAddress, type ResponderErrorContext, type Transport } from './responder';
import { BIG_V4, GEOIP_TEST_DB, fixtureInput, fixtureSnapshot, type DecodedReply } from './test-fixtures';
import { TYPE } from './wire/constants';
import { ecsIpv4, ecsOption, encodeQuery, type QueryOptions } from './wire/query-builder';

const decodeReply = (b: Buffer): DecodedReply => dnsPacket.decode(b) as unknown as DecodedReply;

/** A documentation address: never located, so service names answer in service order. */
const PEER: PeerAddress = { address: '192.0.2.200', family: 4 };

let locator: GeoLocator;
beforeAll(async () => {
  locator = await GeoLocator.open(GEOIP_TEST_DB);
});

interface Harness {
  responder: DnsResponder;
  errors: Array<{ err: unknown; ctx: ResponderErrorContext }>;
}

/** The real classifier over MaxMind's test database; `broken` makes it throw (a database read failure). */
function harness(snapshot: RoutingSnapshot | null = fixtureSnapshot(), broken: { on: boolean } = { on: false }): Harness {
  const errors: Harness['errors'] = [];
  const classifier = (): Classifier => {
    const real = locator.classifier;
    if (!broken.on) return real;
    const fail = (): number => {
      throw new Error('mmdb gone');
    };
    return { classes: real.classes, prefixLength: 0, family: 4, classifyV4: fail, classifyV6: fail, classifyText: fail };
  };
  const responder = new DnsResponder({ classifier, onError: (err, ctx) => errors.push({ err, ctx }) });
  if (snapshot) responder.setSnapshot(snapshot);
  return { responder, errors };
}

/** What the explain API's engine says for the same client (the DNS answer must agree). */
function explain(snapshot: RoutingSnapshot, fqdn: string, ip: string, qtype: 'A' | 'AAAA' = 'A') {
  const family = ip.includes(':') ? 6 : 4;
  return decide(snapshot, { fqdn, qtype, client: { ip, family, location: locator.locate(ip), source: 'ecs' } })!;
}

function send(h: Harness, o: QueryOptions, transport: Transport = 'udp', peer: PeerAddress = PEER): { raw: Buffer; msg: DecodedReply } {
  const raw = h.responder.respond(encodeQuery(o), peer, transport);
  if (raw === null) throw new Error('no reply');
  return { raw, msg: decodeReply(raw) };
}

type Opt = { udpPayloadSize: number; ednsVersion: number; extendedRcode: number; flag_do: boolean; options: Array<{ code: number; [k: string]: unknown }> };
const optOf = (msg: DecodedReply): Opt | undefined => msg.additionals?.find((a) => a.type === 'OPT') as unknown as Opt | undefined;

describe('header and flags', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });

  test('D20/D12/D11: ID copied, QR=1, AA=1, RD copied, RA, Z, AD, CD clear', () => {
    const { msg } = send(h, { id: 0x4242, name: 'www.example.com', rd: true, extraFlags: 0x0040 | 0x0020 | 0x0010 });
    expect(msg).toMatchObject({ id: 0x4242, type: 'response', opcode: 'QUERY', rcode: 'NOERROR', flag_aa: true, flag_rd: true, flag_ra: false, flag_z: false, flag_ad: false, flag_cd: false, flag_tc: false });
    expect(send(h, { name: 'www.example.com', rd: false }).msg.flag_rd).toBe(false);
  });

  test('D19: the question is echoed byte for byte in its original case', () => {
    const query = encodeQuery({ name: 'wWw.ExAmPlE.cOm' });
    const raw = h.responder.respond(query, PEER, 'udp')!;
    expect(raw.subarray(12, query.length)).toEqual(query.subarray(12));
    const msg = decodeReply(raw);
    expect(msg.answers![0]).toMatchObject({ name: 'wWw.ExAmPlE.cOm', type: 'A', data: '192.0.2.80' });
  });

  test('D9: NOTIMP for other OPCODEs, question echoed, opcode copied, no flags but RD', () => {
    for (const opcode of [2, 4, 5, 15]) {
      const raw = h.responder.respond(encodeQuery({ opcode, name: 'example.com', extraFlags: 0x0400 | 0x0080 | 0x0020 }), PEER, 'udp')!;
      expect(raw[3] & 0x0f).toBe(4);
      expect((raw[2] >> 3) & 0x0f).toBe(opcode);
      expect(raw.readUInt16BE(2) & 0x04b0).toBe(0); // AA, RA, AD, Z never copied
      expect(raw.readUInt16BE(4)).toBe(1);
    }
  });

  test('D6/D7: FORMERR for QDCOUNT 0 and 2; no question echoed for 2', () => {
    const zero = send(h, { omitQuestion: true }).msg;
    expect(zero.rcode).toBe('FORMERR');
    const two = h.responder.respond(encodeQuery({ qdcount: 2 }), PEER, 'udp')!;
    expect(two[3] & 0x0f).toBe(1);
    expect(two.readUInt16BE(4)).toBe(0);
    expect(two.length).toBe(12);
  });

  test('D1/D8: nothing for a short message or a response; counted', () => {
    const before = h.responder.stats();
    expect(h.responder.respond(Buffer.alloc(5), PEER, 'udp')).toBeNull();
    expect(h.responder.respond(encodeQuery({ extraFlags: 0x8000 }), PEER, 'udp')).toBeNull();
    const after = h.responder.stats();
    expect(after.malformedDropped).toBe(before.malformedDropped + 1);
    expect(after.responsesDropped).toBe(before.responsesDropped + 1);
  });
});

describe('zone data', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });

  test('D18: NXDOMAIN, AA, SOA in authority', () => {
    const { msg } = send(h, { name: 'nope.example.com' });
    expect(msg).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [] });
    expect(msg.authorities).toEqual([expect.objectContaining({ name: 'example.com', type: 'SOA', ttl: 300 })]);
  });

  test('NODATA with SOA for an existing name and another type, and for an empty non-terminal', () => {
    for (const [name, qtype] of [
      ['www.example.com', TYPE.AAAA],
      ['b.example.com', TYPE.A],
      ['a.b.example.com', TYPE.TXT],
      ['www.example.com', 65280], // D13: unknown type
    ] as const) {
      const { msg } = send(h, { name, qtype });
      expect(msg).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [] });
      expect(msg.authorities!.map((a) => a.type)).toEqual(['SOA']);
    }
  });

  test('D17: REFUSED, AA=0 outside every zone (also for a parent of the zone)', () => {
    for (const name of ['example.org', 'com', '', 'example.com.evil.net']) {
      const { msg } = send(h, { name });
      expect(msg).toMatchObject({ rcode: 'REFUSED', flag_aa: false, answers: [], authorities: [] });
    }
  });

  test('D16: QCLASS CH (version.bind) and ANY are REFUSED', () => {
    expect(send(h, { name: 'version.bind', qtype: TYPE.TXT, qclass: 3 }).msg.rcode).toBe('REFUSED');
    expect(send(h, { name: 'www.example.com', qclass: 3 }).msg.rcode).toBe('REFUSED');
    expect(send(h, { name: 'www.example.com', qclass: 255 }).msg.rcode).toBe('REFUSED');
  });

  test('D15: AXFR and IXFR are REFUSED over UDP and TCP, never the zone contents', () => {
    for (const transport of ['udp', 'tcp'] as const) {
      for (const qtype of [TYPE.AXFR, TYPE.IXFR]) {
        const { msg } = send(h, { name: 'example.com', qtype }, transport);
        expect(msg).toMatchObject({ rcode: 'REFUSED', answers: [], flag_aa: false });
      }
    }
  });

  test('meta types (OPT, TSIG, TKEY, 0) as QTYPE are FORMERR', () => {
    for (const qtype of [0, TYPE.OPT, TYPE.TKEY, TYPE.TSIG]) {
      expect(send(h, { name: 'example.com', qtype }).msg.rcode).toBe('FORMERR');
    }
  });

  test('D14: ANY is minimal: one RRset, or a synthesized HINFO', () => {
    const apex = send(h, { name: 'example.com', qtype: TYPE.ANY }).msg;
    expect(new Set(apex.answers!.map((a) => a.type))).toEqual(new Set(['SOA']));
    const www = send(h, { name: 'www.example.com', qtype: TYPE.ANY }).msg;
    expect(www.answers!.map((a) => a.type)).toEqual(['A']);
    const app = send(h, { name: 'app.example.com', qtype: TYPE.ANY }).msg;
    expect(app.answers).toEqual([expect.objectContaining({ name: 'app.example.com', type: 'HINFO', data: { cpu: 'RFC8482', os: '' } })]);
    const big = h.responder.respond(encodeQuery({ name: 'big.example.com', qtype: TYPE.ANY }), PEER, 'udp')!;
    expect(big.length).toBeLessThanOrEqual(512);
  });

  test('CNAME: answered for any type, chased one step inside the zone', () => {
    const a = send(h, { name: 'alias.example.com' }).msg;
    expect(a.answers!.map((x) => `${x.name} ${x.type} ${x.data}`)).toEqual(['alias.example.com CNAME www.example.com', 'www.example.com A 192.0.2.80']);
    const txt = send(h, { name: 'alias.example.com', qtype: TYPE.TXT }).msg;
    expect(txt.answers!.map((x) => x.type)).toEqual(['CNAME']);
    const ext = send(h, { name: 'ext.example.com' }).msg;
    expect(ext.answers!.map((x) => `${x.type} ${x.data}`)).toEqual(['CNAME www.example.net']);
  });

  test('CNAME to a service name: CNAME plus the engine answer owned by the target', () => {
    const { msg } = send(h, { name: 'GO.example.com' });
    expect(msg.answers!.map((x) => `${x.name} ${x.type} ${x.ttl} ${x.data}`)).toEqual([
      'GO.example.com CNAME 300 app.example.com',
      'app.example.com A 30 198.51.100.10', // unlocated peer: us-east-1, first in service order
    ]);
  });

  test('wildcard (RFC 4592): synthesized with the question as owner; NODATA for other types', () => {
    const a = send(h, { name: 'X.y.wild.example.com' }).msg;
    expect(a.answers).toEqual([expect.objectContaining({ name: 'X.y.wild.example.com', type: 'A', ttl: 120, data: '192.0.2.99' })]);
    expect(a.flag_aa).toBe(true);
    const aaaa = send(h, { name: 'x.wild.example.com', qtype: TYPE.AAAA }).msg;
    expect(aaaa).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(aaaa.authorities![0].type).toBe('SOA');
    expect(send(h, { name: 'wild.example.com' }).msg.answers).toEqual([]); // the parent itself is an ENT
  });

  test('delegation: referral with NS in authority and glue, AA=0', () => {
    for (const name of ['sub.example.com', 'www.sub.example.com', 'ns.sub.example.com']) {
      const { msg } = send(h, { name });
      expect(msg).toMatchObject({ rcode: 'NOERROR', flag_aa: false, answers: [] });
      expect(msg.authorities).toEqual([expect.objectContaining({ name: 'sub.example.com', type: 'NS', data: 'ns.sub.example.com' })]);
      expect(msg.additionals).toEqual([expect.objectContaining({ name: 'ns.sub.example.com', type: 'A', data: '192.0.2.77' })]);
    }
  });

  test('before the first snapshot every query is SERVFAIL', () => {
    const empty = harness(null);
    expect(send(empty, { name: 'www.example.com' }).msg.rcode).toBe('SERVFAIL');
  });
});

describe('EDNS', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });

  test('D21: an OPT with 1232, version 0, the query DO bit in the reply exactly when the query had one', () => {
    const withOpt = send(h, { name: 'www.example.com', edns: { udpSize: 4096, flags: 0x4000 } }).msg;
    expect(optOf(withOpt)).toMatchObject({ udpPayloadSize: 1232, ednsVersion: 0, extendedRcode: 0, flag_do: false, options: [] });
    expect(withOpt.additionals).toHaveLength(1);
    expect(optOf(send(h, { name: 'www.example.com' }).msg)).toBeUndefined();
    for (const name of ['nope.example.com', 'example.org']) expect(optOf(send(h, { name, edns: {} }).msg)).toBeDefined();
  });

  test('RFC 3225 §3: the DO bit of the query is copied into the reply, for every kind of answer', () => {
    for (const name of ['www.example.com', 'nope.example.com', 'example.org']) {
      const on = send(h, { name, edns: { flags: 0x8000 } }).raw;
      const off = send(h, { name, edns: { flags: 0 } }).raw;
      expect(optOf(decodeReply(on))?.flag_do).toBe(true);
      expect(optOf(decodeReply(off))?.flag_do).toBe(false);
      // The OPT is the last record: its TTL field's second octet carries DO (0x80), the rest of the flags stay clear.
      const optTtl = on.length - 11 + 5;
      expect([on[optTtl], on[optTtl + 1], on[optTtl + 2], on[optTtl + 3]]).toEqual([0, 0, 0x80, 0]);
    }
  });

  test('D22: BADVERS = header 0 + OPT extended RCODE 1, version 0, no answer', () => {
    const raw = h.responder.respond(encodeQuery({ name: 'www.example.com', edns: { version: 1 } }), PEER, 'udp')!;
    expect(raw[3] & 0x0f).toBe(0);
    const msg = decodeReply(raw);
    expect(msg.answers).toEqual([]);
    expect(optOf(msg)).toMatchObject({ extendedRcode: 1, ednsVersion: 0 });
  });

  test('D23: two OPTs are FORMERR without an OPT', () => {
    const { msg } = send(h, { name: 'www.example.com', edns: {}, additionalRecords: [Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0])] });
    expect(msg.rcode).toBe('FORMERR');
    expect(optOf(msg)).toBeUndefined();
  });

  test('D24: unknown options ignored and not echoed', () => {
    const { msg } = send(h, { name: 'www.example.com', edns: { options: [{ code: 65001, data: Buffer.from([0]) }] } });
    expect(msg.rcode).toBe('NOERROR');
    expect(optOf(msg)!.options).toEqual([]);
  });

  test('D33/D34/D36: invalid ECS is FORMERR with the OPT (without ECS) in the reply', () => {
    for (const option of [ecsIpv4('81.2.69.0', 24, 8), ecsOption(3, 8, 0, Buffer.from([1])), ecsOption(1, 33, 0, Buffer.alloc(5))]) {
      const { msg } = send(h, { name: 'app.example.com', edns: { options: [option] } });
      expect(msg.rcode).toBe('FORMERR');
      expect(optOf(msg)!.options).toEqual([]);
    }
  });

  test('FORMERR for two ECS options (the first sound) carries the OPT without either ECS option', () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const { msg } = send(h, { name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.0', 24), ecsIpv4('81.2.69.0', 24)] } }, transport);
      expect(msg.rcode).toBe('FORMERR');
      expect(optOf(msg)!.options).toEqual([]);
    }
  });

  test('ECS: the ECS address is the client; echoed with the decision scope; socket peer not used', () => {
    // London (81.2.69.160/27 in the test database) -> eu-west-1; the peer (Tokyo) is not used.
    const { msg } = send(h, { name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } }, 'udp', { address: '175.16.199.5', family: 4 });
    expect(msg.answers!.map((a) => a.data)).toEqual(['192.0.2.10', '192.0.2.11']);
    expect(optOf(msg)!.options).toEqual([expect.objectContaining({ code: 8, family: 1, sourcePrefixLength: 27, scopePrefixLength: 27, ip: '81.2.69.160' })]);
  });

  test('D35: ECS SOURCE 0 uses the socket address and answers SCOPE 0', () => {
    const { msg } = send(h, { name: 'app.example.com', edns: { options: [ecsOption(1, 0, 0, Buffer.alloc(0))] } }, 'udp', { address: '175.16.199.5', family: 4 });
    expect(msg.answers!.map((a) => a.data)).toEqual(['203.0.113.10']); // Changchun -> ap-northeast-1
    expect(optOf(msg)!.options).toEqual([expect.objectContaining({ code: 8, sourcePrefixLength: 0, scopePrefixLength: 0 })]);
  });

  test('ECS scope is 0 for static and negative answers', () => {
    for (const name of ['www.example.com', 'nope.example.com']) {
      const { msg } = send(h, { name, edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
      expect(optOf(msg)!.options[0]).toMatchObject({ scopePrefixLength: 0 });
    }
  });

  test('ECS IPv6: the answer and scope the explain engine gives for the same client', () => {
    const addr = Buffer.from([0x20, 0x01, 0x02, 0x18, 0, 0]);
    const { msg } = send(h, { name: 'app.example.com', qtype: TYPE.AAAA, edns: { options: [ecsOption(2, 48, 0, addr)] } });
    const expected = explain(fixtureSnapshot(), 'app.example.com', '2001:218::', 'AAAA');
    expect(msg.answers!.map((a) => a.data)).toEqual(expected.addresses);
    expect(expected.addresses.length).toBeGreaterThan(0);
    expect(optOf(msg)!.options[0]).toMatchObject({ family: 2, sourcePrefixLength: 48, scopePrefixLength: expected.ecsScope });
  });
});

describe('truncation', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });

  test('D26: without EDNS a reply over 512 octets is TC=1 with the question only', () => {
    const query = encodeQuery({ name: 'big.example.com' });
    const raw = h.responder.respond(query, PEER, 'udp')!;
    const msg = decodeReply(raw);
    expect(msg).toMatchObject({ flag_tc: true, answers: [], authorities: [], additionals: [] });
    expect(raw.length).toBe(query.length);
  });

  test('with EDNS the limit is min(max(client, 512), 1232); TC keeps the OPT', () => {
    const small = send(h, { name: 'big.example.com', edns: { udpSize: 100 } }).msg;
    expect(small.flag_tc).toBe(true);
    expect(optOf(small)).toBeDefined();
    const fits = send(h, { name: 'big.example.com', edns: { udpSize: 1232 } });
    expect(fits.msg.flag_tc).toBe(false);
    expect(fits.msg.answers).toHaveLength(BIG_V4.length);
    const huge = send(h, { name: 'big.example.com', edns: { udpSize: 65535 } });
    expect(huge.raw.length).toBeLessThanOrEqual(1232);
  });

  test('D31: TCP is never truncated', () => {
    const { msg } = send(h, { name: 'big.example.com' }, 'tcp');
    expect(msg.flag_tc).toBe(false);
    expect(msg.answers!.map((a) => a.data)).toEqual(BIG_V4);
  });

  test('glue is dropped before the answer is truncated (RFC 2181 §9)', () => {
    const snapshot = fixtureSnapshot(1, {
      zones: [
        {
          name: 'example.com',
          serial: 1,
          nameservers: Array.from({ length: 12 }, (_, i) => `ns${i}.example.com`),
          hostmaster: 'hostmaster.example.com',
          ttl: 3600,
          refresh: 1,
          retry: 1,
          expire: 1,
          negativeTtl: 1,
          records: Array.from({ length: 12 }, (_, i) => ({ id: `g${i}`, name: `ns${i}.example.com`, type: 'AAAA' as const, ttl: 60, values: [`2001:db8::${i + 1}`] })),
        },
      ],
      services: [],
    });
    const g = harness(snapshot);
    const { msg } = send(g, { name: 'example.com', qtype: TYPE.NS });
    expect(msg.flag_tc).toBe(false);
    expect(msg.answers).toHaveLength(12);
    expect(msg.additionals).toEqual([]);
    expect(send(g, { name: 'example.com', qtype: TYPE.NS }, 'tcp').msg.additionals).toHaveLength(12);
  });
});

describe('service names through the routing tables', () => {
  test('A and AAAA from the tables with the service TTL (unlocated peer: service order)', () => {
    const h = harness();
    const a = send(h, { name: 'app.example.com' }).msg;
    expect(a.answers).toEqual([expect.objectContaining({ name: 'app.example.com', type: 'A', ttl: 30, data: '198.51.100.10' })]);
    const aaaa = send(h, { name: 'app.example.com', qtype: TYPE.AAAA }).msg;
    expect(aaaa.answers![0]).toMatchObject({ type: 'AAAA', data: '2001:db8::20' });
    expect(h.responder.stats().routed).toBe(2);
  });

  test('other types at a service name are NODATA with SOA, not routed', () => {
    const h = harness();
    const { msg } = send(h, { name: 'app.example.com', qtype: TYPE.TXT });
    expect(msg).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(msg.authorities![0].type).toBe('SOA');
    expect(h.responder.stats().routed).toBe(0);
  });

  test('several regions: RRs in distance order, the addresses of each region once', () => {
    const snapshot = fixtureSnapshot(1, {
      services: [{ fqdn: 'app.example.com', policy: 'proximity', regions: ['us-east-1', 'eu-west-1', 'ap-northeast-1'], ttl: 10, residency: 'none', answerCount: 3 }],
    });
    const h = harness(snapshot);
    const { msg } = send(h, { name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
    expect(msg.answers!.map((a) => `${a.data}/${a.ttl}`)).toEqual(['192.0.2.10/10', '192.0.2.11/10', '198.51.100.10/10', '203.0.113.10/10']);
    expect(msg.answers!.map((a) => a.data)).toEqual(explain(snapshot, 'app.example.com', '81.2.69.160').addresses);
  });

  test('no address of the family is NODATA with the decision scope', () => {
    const regions = [
      { name: 'eu-west-1', countryCode: 'IE', latitude: 53.35, longitude: -6.26, ipv4: ['192.0.2.10'] },
      { name: 'us-east-1', countryCode: 'US', latitude: 39.04, longitude: -77.49, ipv4: ['198.51.100.10'] },
    ];
    const snapshot = fixtureSnapshot(1, { regions, services: [{ fqdn: 'app.example.com', policy: 'proximity', regions: ['eu-west-1', 'us-east-1'], ttl: 30, residency: 'none' }] });
    const h = harness(snapshot);
    const { msg } = send(h, { name: 'app.example.com', qtype: TYPE.AAAA, edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
    expect(msg).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(msg.authorities![0].type).toBe('SOA');
    expect(explain(snapshot, 'app.example.com', '81.2.69.160', 'AAAA').reason).toBe('no-address');
    expect(optOf(msg)!.options[0]).toMatchObject({ scopePrefixLength: 27 });
  });

  test('a residency refusal is SERVFAIL with EDE 18 (Prohibited) and the engine detail as EXTRA-TEXT', () => {
    const h = harness();
    // Linköping, SE (89.160.20.128/25): an EU client of a GDPR service without an EU region.
    const q = { name: 'private.example.com', edns: { options: [ecsIpv4('89.160.20.130', 32)] } };
    const { raw, msg } = send(h, q);
    expect(msg).toMatchObject({ rcode: 'SERVFAIL', flag_aa: false, answers: [] });
    const option = optOf(msg)!.options.find((o) => o.code === 15) as unknown as { data: Buffer };
    expect(option.data.readUInt16BE(0)).toBe(18);
    const expected = explain(fixtureSnapshot(), 'private.example.com', '89.160.20.130');
    expect(expected.outcome).toBe('refused');
    expect(option.data.subarray(2).toString()).toBe(expected.detail);
    expect(raw.length).toBeLessThan(512);
    // Without EDNS: SERVFAIL, no OPT. A US client of the same service is answered.
    expect(send(h, { name: 'private.example.com' }).msg.rcode).toBe('NOERROR');
  });

  test('fail-closed with every region unhealthy: SERVFAIL with EDE 0 (Other); health comes back without a rebuild', () => {
    const input = { services: [{ fqdn: 'boom.example.com', policy: 'failover' as const, regions: ['us-east-1'], ttl: 30, residency: 'none' as const, whenAllUnhealthy: 'fail-closed' as const }] };
    const healthy = fixtureSnapshot(1, input);
    const h = harness(healthy);
    expect(send(h, { name: 'boom.example.com', edns: {} }).msg.answers![0].data).toBe('198.51.100.10');
    const down = withRegionHealth(healthy, new Map([['us-east-1', { health: 'unhealthy' as const, healthReason: 'probe' }]]), 2);
    h.responder.setSnapshot(down);
    const other = send(h, { name: 'boom.example.com', edns: {} }).msg;
    expect(other.rcode).toBe('SERVFAIL');
    expect((optOf(other)!.options.find((o) => o.code === 15) as unknown as { data: Buffer }).data.readUInt16BE(0)).toBe(0);
    const up = withRegionHealth(down, new Map([['us-east-1', { health: 'healthy' as const, healthReason: null }]]), 3);
    h.responder.setSnapshot(up);
    expect(send(h, { name: 'boom.example.com' }).msg.rcode).toBe('NOERROR');
    // Both health changes kept the view: nothing was rebuilt.
    expect(h.responder.stats()).toMatchObject({ viewReuses: 2, snapshotVersion: 3 });
  });

  test('D41: a classifier that throws is SERVFAIL for that query only, reported', () => {
    const broken = { on: true };
    const h = harness(fixtureSnapshot(), broken);
    expect(send(h, { name: 'app.example.com' }).msg.rcode).toBe('SERVFAIL');
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0].ctx).toMatchObject({ stage: 'decide', qname: 'app.example.com', qtype: TYPE.A, transport: 'udp' });
    expect(send(h, { name: 'www.example.com' }).msg.rcode).toBe('NOERROR');
    expect(h.responder.stats().handlerErrors).toBe(1);
  });

  test('a throwing classifier and a throwing onError still answer SERVFAIL', () => {
    const fail = (): number => {
      throw new Error('mmdb gone');
    };
    const responder = new DnsResponder({
      classifier: () => ({ classes: locator.classifier.classes, prefixLength: 0, family: 4, classifyV4: fail, classifyV6: fail, classifyText: fail }),
      onError: () => {
        throw new Error('logger broken');
      },
    });
    responder.setSnapshot(fixtureSnapshot());
    const raw = responder.respond(encodeQuery({ name: 'app.example.com' }), PEER, 'udp')!;
    expect(decodeReply(raw).rcode).toBe('SERVFAIL');
  });

  test('prepared answers are per chosen regions, not per client; a changed service is updated in place, a new name rebuilds', () => {
    const first = fixtureSnapshot();
    const h = harness(first);
    for (let i = 0; i < 50; i++) send(h, { name: 'app.example.com', edns: { options: [ecsIpv4(`81.2.69.${128 + i}`, 32)] } });
    for (let i = 0; i < 20; i++) send(h, { name: 'app.example.com' }, 'udp', { address: `192.0.2.${i + 1}`, family: 4 });
    send(h, { name: 'go.example.com' }); // the CNAME to app.example.com
    // 71 clients, three answers: eu-west-1 (London), us-east-1 (unlocated), and the CNAME's.
    expect(h.responder.stats()).toMatchObject({ routed: 71, preparedAnswers: 3 });
    const services = fixtureInput().services.map((s) => (s.fqdn === 'app.example.com' ? { ...s, policy: 'failover' as const, regions: ['ap-northeast-1'] } : s));
    // Built as the snapshot store builds it: from the one in service, reusing what did not change;
    // the write bumped the zone's serial too.
    const base = fixtureInput({ services });
    const serial = base.zones[0].serial + 1;
    const changed = buildSnapshot({ ...base, zones: [{ ...base.zones[0], serial }] }, 2, new Date(), first);
    h.responder.setSnapshot(changed);
    expect(send(h, { name: 'app.example.com' }).msg.answers![0].data).toBe('203.0.113.10');
    // The CNAME follows the changed service too; the view was kept (one service's data replaced).
    expect(send(h, { name: 'go.example.com' }).msg.answers!.map((a) => a.data)).toEqual(['app.example.com', '203.0.113.10']);
    expect(h.responder.stats()).toMatchObject({ snapshotVersion: 2, viewReuses: 1, preparedAnswers: 2 });
    // Every SOA the zone hands out carries the new serial: the apex's, NODATA's and NXDOMAIN's.
    expect(send(h, { name: 'example.com', qtype: TYPE.SOA }).msg.answers![0].data.serial).toBe(serial);
    expect(send(h, { name: 'www.example.com', qtype: TYPE.TXT }).msg.authorities![0].data.serial).toBe(serial);
    expect(send(h, { name: 'nope.example.com' }).msg.authorities![0].data.serial).toBe(serial);
    expect(send(h, { name: 'sub.example.com', qtype: TYPE.DS }).msg).toMatchObject({ flag_aa: true, answers: [], authorities: [expect.objectContaining({ type: 'SOA', data: expect.objectContaining({ serial }) })] });
    expect(send(h, { name: 'app.example.com', qtype: TYPE.AAAA, edns: { options: [ecsIpv4('81.2.69.160', 27)] } }).msg.answers![0].data).toBe('2001:db8::30');
    // A service added: a new name, so the view is built again.
    const added = [...services, { fqdn: 'new.example.com', policy: 'failover' as const, regions: ['us-east-1'], ttl: 30, residency: 'none' as const }];
    h.responder.setSnapshot(buildSnapshot(fixtureInput({ services: added }), 3, new Date(), changed));
    expect(send(h, { name: 'new.example.com' }).msg.answers![0].data).toBe('198.51.100.10');
    expect(h.responder.stats()).toMatchObject({ snapshotVersion: 3, viewReuses: 1 });
  });

  test('a prepared reply is patched per query: ID, question case, RD, ECS echo and scope', () => {
    const h = harness();
    send(h, { id: 1, name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
    const { raw, msg } = send(h, { id: 2, name: 'ApP.example.com', rd: false, edns: { options: [ecsIpv4('81.2.69.160', 32)] } });
    expect(msg).toMatchObject({ id: 2, flag_rd: false });
    expect(msg.questions![0].name).toBe('ApP.example.com');
    expect(raw.includes(Buffer.from('ApP'))).toBe(true);
    expect(optOf(msg)!.options[0]).toMatchObject({ sourcePrefixLength: 32, scopePrefixLength: 27 });
    expect(h.responder.stats().preparedAnswers).toBe(1);
  });

  test('an IPv4-mapped peer is located as IPv4', () => {
    const h = harness();
    const { msg } = send(h, { name: 'app.example.com' }, 'udp', { address: '::ffff:81.2.69.160', family: 6 });
    expect(msg.answers!.map((a) => a.data)).toEqual(['192.0.2.10', '192.0.2.11']);
  });

  test('IPv4 ECS: high and low addresses, odd and special ones, all answered as the explain engine answers them', () => {
    const h = harness();
    const snapshot = fixtureSnapshot();
    for (const [address, source] of [['81.2.69.160', 27], ['200.1.2.0', 24], ['72.1.2.0', 24], ['255.255.255.255', 32], ['0.0.0.1', 32], ['10.1.2.3', 32], ['175.16.199.0', 24], ['216.160.83.56', 29]] as const) {
      for (const qtype of [TYPE.A, TYPE.AAAA]) {
        const msg = send(h, { name: 'app.example.com', qtype, edns: { options: [ecsIpv4(address, source)] } }).msg;
        const expected = explain(snapshot, 'app.example.com', address, qtype === TYPE.A ? 'A' : 'AAAA');
        expect({ address, answers: msg.answers!.map((a) => a.data), scope: optOf(msg)!.options[0].scopePrefixLength }).toEqual({
          address,
          answers: expected.addresses,
          scope: expected.ecsScope,
        });
      }
    }
  });
});

describe('stats', () => {
  test('replies are counted by transport and RCODE name', () => {
    const h = harness();
    send(h, { name: 'www.example.com' });
    send(h, { name: 'nope.example.com' }, 'tcp');
    send(h, { name: 'www.example.com', edns: { version: 2 } });
    const stats = h.responder.stats();
    expect(stats.replies.udp).toMatchObject({ NOERROR: 1, BADVERS: 1, NXDOMAIN: 0 });
    expect(stats.replies.tcp).toMatchObject({ NXDOMAIN: 1 });
  });
});

describe('identity: NSID and CHAOS (RFC 5001, RFC 4892)', () => {
  const withIdentity = (identity: { id: string | null; version: string | null }): Harness => {
    const responder = new DnsResponder({ classifier: () => locator.classifier, identity });
    responder.setSnapshot(fixtureSnapshot());
    return { responder, errors: [] };
  };
  const NSID = { code: 3, data: Buffer.alloc(0) };
  const txtOf = (msg: DecodedReply): string[] => msg.answers.map((a) => Buffer.concat(a.data as unknown as Buffer[]).toString('latin1'));

  test('NSID only in replies to queries asking for it, beside ECS, on every RCODE', () => {
    const h = withIdentity({ id: 'fra-2', version: null });
    const asked = send(h, { name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27), NSID] } });
    expect(asked.msg.answers.map((a) => a.data)).toEqual(['192.0.2.10', '192.0.2.11']);
    expect(optOf(asked.msg)!.options).toEqual([
      expect.objectContaining({ code: 8, sourcePrefixLength: 27, scopePrefixLength: 27 }),
      expect.objectContaining({ code: 3, data: Buffer.from('fra-2') }),
    ]);
    expect(optOf(send(h, { name: 'app.example.com', edns: {} }).msg)!.options).toEqual([]);
    for (const o of [{ name: 'nope.example.com' }, { name: 'example.org' }, { name: 'example.com', opcode: 2 }]) {
      expect(optOf(send(h, { ...o, edns: { options: [NSID] } }).msg)!.options).toEqual([expect.objectContaining({ code: 3, data: Buffer.from('fra-2') })]);
    }
  });

  test('NSID off: the option is not answered', () => {
    const h = withIdentity({ id: null, version: null });
    expect(optOf(send(h, { name: 'www.example.com', edns: { options: [NSID] } }).msg)!.options).toEqual([]);
  });

  test('CHAOS TXT id.server, hostname.bind (any case) answer the id, AA, TTL 0, class CH', () => {
    const h = withIdentity({ id: 'fra-2', version: 'georoute 0.1' });
    for (const name of ['id.server', 'HOSTNAME.bind', 'version.bind', 'version.server']) {
      const { msg } = send(h, { name, qtype: TYPE.TXT, qclass: 3 });
      expect(msg).toMatchObject({ rcode: 'NOERROR', flag_aa: true });
      expect(msg.answers).toEqual([expect.objectContaining({ name, type: 'TXT', class: 'CH', ttl: 0 })]);
      expect(txtOf(msg)).toEqual([name.startsWith('version') ? 'georoute 0.1' : 'fra-2']);
    }
    expect(send(h, { name: 'id.server', qtype: TYPE.A, qclass: 3 }).msg).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(send(h, { name: 'id.server', qtype: TYPE.TXT }).msg.rcode).toBe('REFUSED'); // class IN: not a zone of ours
    expect(send(h, { name: 'authors.bind', qtype: TYPE.TXT, qclass: 3 }).msg.rcode).toBe('REFUSED');
  });

  test('version.bind hidden by default and identity off: REFUSED like any other CHAOS name', () => {
    expect(send(withIdentity({ id: 'fra-2', version: null }), { name: 'version.bind', qtype: TYPE.TXT, qclass: 3 }).msg.rcode).toBe('REFUSED');
    const off = withIdentity({ id: null, version: null });
    for (const name of ['id.server', 'hostname.bind']) expect(send(off, { name, qtype: TYPE.TXT, qclass: 3 }).msg.rcode).toBe('REFUSED');
  });

  test('an identity that is not printable ASCII is refused at construction', () => {
    expect(() => withIdentity({ id: 'caf\u00e9', version: null })).toThrow(/printable ASCII/);
  });
});

describe('respondInto (the batched UDP path): the bytes of respond(), written in place', () => {
  const queries: Array<[string, Buffer]> = [
    ['static A', encodeQuery({ id: 11, name: 'www.example.com' })],
    ['service A with ECS', encodeQuery({ id: 12, name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } })],
    ['service AAAA, no ECS', encodeQuery({ id: 13, name: 'app.example.com', qtype: TYPE.AAAA, edns: {} })],
    ['NXDOMAIN', encodeQuery({ id: 14, name: 'nope.example.com' })],
    ['REFUSED outside the zones', encodeQuery({ id: 15, name: 'example.org' })],
    ['FORMERR (two ECS options)', encodeQuery({ id: 16, name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.0', 24), ecsIpv4('81.2.69.0', 24)] } })],
    ['truncated without EDNS', encodeQuery({ id: 17, name: 'big.example.com' })],
  ];

  test.each(queries)('%s', (_, query) => {
    const h = harness();
    const expected = h.responder.respond(query, PEER, 'udp');
    expect(expected).not.toBeNull();
    const area = Buffer.alloc(4096, 0xee);
    const length = h.responder.respondInto(query, PEER, 'udp', area, 1000, 2048);
    expect(length).toBe(expected!.length);
    expect(area.subarray(1000, 1000 + length)).toEqual(expected);
    // Nothing written outside the reply's place.
    expect(area.subarray(0, 1000).every((x) => x === 0xee)).toBe(true);
    expect(area.subarray(1000 + length).every((x) => x === 0xee)).toBe(true);
    // And respond() afterwards still makes a Buffer of its own.
    expect(h.responder.respond(query, PEER, 'udp')).toEqual(expected);
  });

  test('no reply: -1, nothing written; a reply longer than the room: its length, nothing written', () => {
    const h = harness();
    const area = Buffer.alloc(600, 0xee);
    expect(h.responder.respondInto(Buffer.alloc(5), PEER, 'udp', area, 0, 600)).toBe(-1);
    const query = encodeQuery({ id: 18, name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
    const expected = h.responder.respond(query, PEER, 'udp')!;
    expect(h.responder.respondInto(query, PEER, 'udp', area, 100, expected.length - 1)).toBe(expected.length);
    expect(area.every((x) => x === 0xee)).toBe(true);
  });
});

describe('a view built ahead in slices (prepare), while the view in service answers', () => {
  /** The fixture with `n` more services in example.com, each at its own name. */
  const withServices = (n: number, version: number): RoutingSnapshot => {
    const input = fixtureInput();
    const extra = Array.from({ length: n }, (_, k) => ({ fqdn: `s${k}.example.com`, policy: 'proximity' as const, regions: ['eu-west-1', 'us-east-1'], ttl: 30, residency: 'none' as const }));
    return buildSnapshot({ ...input, services: [...input.services, ...extra] }, version, new Date('2025-01-01T00:00:00Z'));
  };
  const answersOf = (h: Harness, name: string) => send(h, { name }).msg;

  test.each([
    ['health alone changed', (s: RoutingSnapshot) => withRegionHealth(s, new Map([['us-east-1', { health: 'unhealthy', healthReason: 'probe' }]]), s.version + 1), false],
    ['one service changed (updated in place)', () => fixtureSnapshot(2, { services: fixtureInput().services.map((x) => (x.fqdn === 'app.example.com' ? { ...x, ttl: 60 } : x)) }), false],
    ['300 services more', () => withServices(300, 2), true],
    ['the same names, region data changed', () => fixtureSnapshot(2, { regions: fixtureInput().regions.map((r) => ({ ...r, latitude: r.latitude + 1 })) }), true],
  ] as const)('%s: steps only when the view in service cannot serve it (%#)', (_what, next, expectSteps) => {
    const h = harness();
    const current = fixtureSnapshot();
    h.responder.setSnapshot(current);
    expect(h.responder.prepare(next(current)) !== null).toBe(expectSteps);
  });

  test('between slices the old view answers; setSnapshot then serves the view built ahead', () => {
    const h = harness();
    const next = withServices(400, 2);
    const steps = h.responder.prepare(next)!;
    expect(steps).not.toBeNull();
    let slices = 0;
    for (let r = steps.next(); r.done !== true; r = steps.next()) {
      // A query between two steps of the build: the name the new snapshot adds is not there yet.
      if (++slices % 97 === 0) expect(answersOf(h, 's399.example.com').rcode).toBe('NXDOMAIN');
    }
    expect(slices).toBeGreaterThan(400); // it yields per name, not once
    expect(answersOf(h, 'app.example.com').answers![0]).toMatchObject({ type: 'A' });
    const builds = h.responder.stats().viewBuilds;
    h.responder.setSnapshot(next);
    expect(h.responder.stats().viewBuilds).toBe(builds + 1); // the view built ahead, not another
    const msg = answersOf(h, 's399.example.com');
    expect(msg.rcode).toBe('NOERROR');
    expect(msg.answers![0]).toMatchObject({ name: 's399.example.com', type: 'A' });
    // The same answer as a view built at once.
    const once = harness(next);
    expect(answersOf(h, 's7.example.com')).toEqual(answersOf(once, 's7.example.com'));
  });

  test('a view built ahead serves a snapshot that differs from it in health alone', () => {
    const h = harness();
    const next = withServices(50, 2);
    const steps = h.responder.prepare(next)!;
    for (let r = steps.next(); r.done !== true; r = steps.next());
    const healthier = withRegionHealth(next, new Map([['eu-west-1', { health: 'unhealthy', healthReason: 'probe' }]]), 3);
    h.responder.setSnapshot(healthier);
    expect(answersOf(h, 's3.example.com').answers![0]).toMatchObject({ type: 'A' });
    // A build ahead for an older snapshot is not taken for an unrelated one.
    const other = h.responder.prepare(withServices(60, 4))!;
    for (let r = other.next(); r.done !== true; r = other.next());
    h.responder.setSnapshot(withServices(70, 5));
    expect(answersOf(h, 's65.example.com').rcode).toBe('NOERROR');
  });
});
