import * as dnsPacket from 'dns-packet';
import type { Decision, GeoLocation, RouteQuery, RoutingSnapshot } from '../routing/types';
import { DnsResponder, type PeerAddress, type ResponderErrorContext, type Transport } from './responder';
import { BIG_V4, fixtureSnapshot, type DecodedReply } from './test-fixtures';
import { TYPE } from './wire/constants';
import { ecsIpv4, ecsOption, encodeQuery, type QueryOptions } from './wire/query-builder';

const decodeReply = (b: Buffer): DecodedReply => dnsPacket.decode(b) as unknown as DecodedReply;

const NOWHERE: GeoLocation = Object.freeze({ found: false, country: null, continent: null, latitude: null, longitude: null, prefixLength: 0 });
const PEER: PeerAddress = { address: '192.0.2.200', family: 4 };

function decision(q: RouteQuery, fields: Partial<Decision> = {}): Decision {
  return {
    outcome: 'answer',
    service: q.fqdn,
    regions: ['eu-west-1'],
    addresses: q.qtype === 'A' ? ['192.0.2.10'] : ['2001:db8::10'],
    ttl: 30,
    ecsScope: 20,
    reason: 'nearest-healthy',
    detail: 'nearest',
    candidates: [],
    ...fields,
  };
}

interface Harness {
  responder: DnsResponder;
  calls: RouteQuery[];
  located: string[];
  errors: Array<{ err: unknown; ctx: ResponderErrorContext }>;
  setDecide(fn: (s: RoutingSnapshot, q: RouteQuery) => Decision | null): void;
}

function harness(snapshot: RoutingSnapshot | null = fixtureSnapshot()): Harness {
  const calls: RouteQuery[] = [];
  const located: string[] = [];
  const errors: Harness['errors'] = [];
  let impl = (_s: RoutingSnapshot, q: RouteQuery): Decision | null => decision(q);
  const responder = new DnsResponder({
    locator: {
      locate: (ip) => {
        located.push(ip);
        return NOWHERE;
      },
    },
    decide: (s, q) => {
      calls.push(q);
      return impl(s, q);
    },
    onError: (err, ctx) => errors.push({ err, ctx }),
  });
  if (snapshot) responder.setSnapshot(snapshot);
  return { responder, calls, located, errors, setDecide: (fn) => (impl = fn) };
}

function send(h: Harness, o: QueryOptions, transport: Transport = 'udp', peer: PeerAddress = PEER): { raw: Buffer; msg: DecodedReply } {
  const raw = h.responder.respond(encodeQuery(o), peer, transport);
  if (raw === null) throw new Error('no reply');
  return { raw, msg: decodeReply(raw) };
}

type Opt = { udpPayloadSize: number; ednsVersion: number; extendedRcode: number; flag_do: boolean; options: Array<{ code: number; [k: string]: unknown }> };
const optOf = (msg: DecodedReply): Opt | undefined => msg.additionals?.find((a) => a.type === 'OPT') as unknown as Opt | undefined;

describe('header and flags', () => {
  const h = harness();

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
  const h = harness();

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
      'app.example.com A 30 192.0.2.10',
    ]);
    expect(h.calls.at(-1)!.fqdn).toBe('app.example.com');
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
  const h = harness();

  test('D21: an OPT with 1232, version 0, DO clear in the reply exactly when the query had one', () => {
    const withOpt = send(h, { name: 'www.example.com', edns: { udpSize: 4096, flags: 0x8000 } }).msg;
    expect(optOf(withOpt)).toMatchObject({ udpPayloadSize: 1232, ednsVersion: 0, extendedRcode: 0, flag_do: false, options: [] });
    expect(withOpt.additionals).toHaveLength(1);
    expect(optOf(send(h, { name: 'www.example.com' }).msg)).toBeUndefined();
    for (const name of ['nope.example.com', 'example.org']) expect(optOf(send(h, { name, edns: {} }).msg)).toBeDefined();
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

  test('ECS: the ECS address is the client; echoed with the decision scope; socket peer not used', () => {
    h.calls.length = 0;
    const { msg } = send(h, { name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
    expect(h.calls.at(-1)!.client).toMatchObject({ ip: '81.2.69.160', family: 4, source: 'ecs' });
    expect(optOf(msg)!.options).toEqual([expect.objectContaining({ code: 8, family: 1, sourcePrefixLength: 27, scopePrefixLength: 20, ip: '81.2.69.160' })]);
  });

  test('D35: ECS SOURCE 0 uses the socket address and answers SCOPE 0', () => {
    const { msg } = send(h, { name: 'app.example.com', edns: { options: [ecsOption(1, 0, 0, Buffer.alloc(0))] } }, 'udp', { address: '203.0.113.77', family: 4 });
    expect(h.calls.at(-1)!.client).toMatchObject({ ip: '203.0.113.77', source: 'socket' });
    expect(optOf(msg)!.options).toEqual([expect.objectContaining({ code: 8, sourcePrefixLength: 0, scopePrefixLength: 0 })]);
  });

  test('ECS scope is 0 for static and negative answers', () => {
    for (const name of ['www.example.com', 'nope.example.com']) {
      const { msg } = send(h, { name, edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
      expect(optOf(msg)!.options[0]).toMatchObject({ scopePrefixLength: 0 });
    }
  });

  test('ECS IPv6', () => {
    const addr = Buffer.from([0x20, 0x01, 0x02, 0x18, 0, 0]);
    const { msg } = send(h, { name: 'app.example.com', qtype: TYPE.AAAA, edns: { options: [ecsOption(2, 48, 0, addr)] } });
    expect(h.calls.at(-1)!.client).toMatchObject({ ip: '2001:218::', family: 6, source: 'ecs' });
    expect(msg.answers![0]).toMatchObject({ type: 'AAAA', data: '2001:db8::10' });
    expect(optOf(msg)!.options[0]).toMatchObject({ family: 2, sourcePrefixLength: 48, scopePrefixLength: 20 });
  });
});

describe('truncation', () => {
  const h = harness();

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

describe('service names and the reply cache', () => {
  test('A and AAAA come from decide() with the service TTL', () => {
    const h = harness();
    const a = send(h, { name: 'app.example.com' }).msg;
    expect(a.answers).toEqual([expect.objectContaining({ name: 'app.example.com', type: 'A', ttl: 30, data: '192.0.2.10' })]);
    expect(h.calls.at(-1)).toMatchObject({ fqdn: 'app.example.com', qtype: 'A', client: { ip: '192.0.2.200', family: 4, source: 'socket', location: NOWHERE } });
    const aaaa = send(h, { name: 'app.example.com', qtype: TYPE.AAAA }).msg;
    expect(aaaa.answers![0]).toMatchObject({ type: 'AAAA', data: '2001:db8::10' });
  });

  test('other types at a service name are NODATA with SOA', () => {
    const h = harness();
    const { msg } = send(h, { name: 'app.example.com', qtype: TYPE.TXT });
    expect(msg).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(msg.authorities![0].type).toBe('SOA');
    expect(h.calls).toHaveLength(0);
  });

  test('several regions: RRs concatenated in decision order; a TTL that differs is written', () => {
    const h = harness();
    h.setDecide((_s, q) => decision(q, { addresses: ['203.0.113.10', '192.0.2.10', '192.0.2.11'], ttl: 10 }));
    const { msg } = send(h, { name: 'app.example.com' });
    expect(msg.answers!.map((a) => `${a.data}/${a.ttl}`)).toEqual(['203.0.113.10/10', '192.0.2.10/10', '192.0.2.11/10']);
  });

  test('a decision without addresses is NODATA (with the decision scope); null is NODATA', () => {
    const h = harness();
    h.setDecide((_s, q) => decision(q, { addresses: [], reason: 'no-address', ecsScope: 24 }));
    const { msg } = send(h, { name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.0', 24)] } });
    expect(msg).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(optOf(msg)!.options[0]).toMatchObject({ scopePrefixLength: 24 });
    h.setDecide(() => null);
    expect(send(h, { name: 'app.example.com', qtype: TYPE.AAAA }).msg).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  test('a refused decision is SERVFAIL with EDE 18 (Prohibited) and the detail as EXTRA-TEXT', () => {
    const h = harness();
    h.setDecide((_s, q) => decision(q, { outcome: 'refused', addresses: [], reason: 'residency-no-eligible-region', detail: 'GDPR: no EU region for an EU client' }));
    const { raw, msg } = send(h, { name: 'private.example.com', edns: {} });
    expect(msg).toMatchObject({ rcode: 'SERVFAIL', flag_aa: false, answers: [] });
    const option = optOf(msg)!.options.find((o) => o.code === 15) as unknown as { data: Buffer };
    expect(option.data.readUInt16BE(0)).toBe(18);
    expect(option.data.subarray(2).toString()).toBe('GDPR: no EU region for an EU client');
    expect(raw.length).toBeLessThan(512);
    // Without EDNS: SERVFAIL, no OPT.
    const plain = send(h, { name: 'private.example.com' }).msg;
    expect(plain.rcode).toBe('SERVFAIL');
    expect(optOf(plain)).toBeUndefined();
    // Other refusals carry INFO-CODE 0 (Other).
    h.setDecide((_s, q) => decision(q, { outcome: 'refused', addresses: [], reason: 'all-unhealthy-fail-closed', detail: 'all regions down' }));
    const other = send(h, { name: 'app.example.com', edns: {} }).msg;
    expect((optOf(other)!.options.find((o) => o.code === 15) as unknown as { data: Buffer }).data.readUInt16BE(0)).toBe(0);
  });

  test('D41: a throwing decide is SERVFAIL for that query only, reported, not cached', () => {
    const h = harness();
    h.setDecide(() => {
      throw new Error('engine exploded');
    });
    expect(send(h, { name: 'app.example.com' }).msg.rcode).toBe('SERVFAIL');
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0].ctx).toMatchObject({ stage: 'decide', qname: 'app.example.com', qtype: TYPE.A, transport: 'udp' });
    expect(send(h, { name: 'www.example.com' }).msg.rcode).toBe('NOERROR');
    h.setDecide((_s, q) => decision(q));
    expect(send(h, { name: 'app.example.com' }).msg.rcode).toBe('NOERROR');
    expect(h.responder.stats().handlerErrors).toBe(1);
  });

  test('a throwing locator, and a throwing onError, still answer SERVFAIL', () => {
    const responder = new DnsResponder({
      locator: {
        locate: () => {
          throw new Error('mmdb gone');
        },
      },
      decide: (_s, q) => decision(q),
      onError: () => {
        throw new Error('logger broken');
      },
    });
    responder.setSnapshot(fixtureSnapshot());
    const raw = responder.respond(encodeQuery({ name: 'app.example.com' }), PEER, 'udp')!;
    expect(decodeReply(raw).rcode).toBe('SERVFAIL');
  });

  test('decisions are cached per (name, type, client); a new snapshot empties the cache', () => {
    const h = harness();
    send(h, { name: 'app.example.com' });
    send(h, { name: 'APP.example.com' });
    expect(h.calls).toHaveLength(1);
    send(h, { name: 'app.example.com', qtype: TYPE.AAAA });
    send(h, { name: 'app.example.com' }, 'udp', { address: '192.0.2.201', family: 4 });
    expect(h.calls).toHaveLength(3);
    // ECS clients are keyed apart from socket clients with the same address.
    send(h, { name: 'app.example.com', edns: { options: [ecsIpv4('192.0.2.200', 32)] } });
    expect(h.calls).toHaveLength(4);
    expect(h.responder.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 4, cachedAnswers: 4 });
    h.responder.setSnapshot(fixtureSnapshot(2));
    send(h, { name: 'app.example.com' });
    expect(h.calls).toHaveLength(5);
    expect(h.responder.stats().snapshotVersion).toBe(2);
  });

  test('the cache is bounded: emptied when full', () => {
    const responder = new DnsResponder({ locator: { locate: () => NOWHERE }, decide: (_s, q) => decision(q), cacheSize: 3 });
    responder.setSnapshot(fixtureSnapshot());
    for (let i = 0; i < 10; i++) responder.respond(encodeQuery({ name: 'app.example.com' }), { address: `198.51.100.${i}`, family: 4 }, 'udp');
    expect(responder.stats().cachedAnswers).toBeLessThanOrEqual(3);
    expect(responder.zoneView!.cachedAnswers()).toBe(responder.stats().cachedAnswers);
  });

  test('a cached reply is patched per query: ID, question case, RD, ECS echo', () => {
    const h = harness();
    send(h, { id: 1, name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
    const { raw, msg } = send(h, { id: 2, name: 'ApP.example.com', rd: false, edns: { options: [ecsIpv4('81.2.69.160', 27)] } });
    expect(h.calls).toHaveLength(1);
    expect(msg).toMatchObject({ id: 2, flag_rd: false });
    expect(msg.questions![0].name).toBe('ApP.example.com');
    expect(raw.includes(Buffer.from('ApP'))).toBe(true);
    expect(optOf(msg)!.options[0]).toMatchObject({ sourcePrefixLength: 27, scopePrefixLength: 20 });
  });

  test('an IPv4-mapped peer is located as IPv4', () => {
    const h = harness();
    send(h, { name: 'app.example.com' }, 'udp', { address: '::ffff:81.2.69.160', family: 6 });
    expect(h.located.at(-1)).toBe('81.2.69.160');
    expect(h.calls.at(-1)!.client.family).toBe(4);
  });

  test('IPv4 ECS: one cache entry per address (any SOURCE), located by its text, high and low addresses apart', () => {
    const h = harness();
    const ecs = (address: string, source: number, qtype: number = TYPE.A) =>
      send(h, { name: 'app.example.com', qtype, edns: { options: [ecsIpv4(address, source)] } }).msg;
    ecs('81.2.69.160', 27);
    expect(h.located).toEqual(['81.2.69.160']);
    expect(h.calls.at(-1)!.client).toMatchObject({ ip: '81.2.69.160', family: 4, source: 'ecs' });
    // Same address, other SOURCE: a hit, and the echo carries this query's SOURCE.
    expect(optOf(ecs('81.2.69.160', 32))!.options[0]).toMatchObject({ sourcePrefixLength: 32, scopePrefixLength: 20 });
    expect(h.calls).toHaveLength(1);
    // Addresses whose 32 bits differ only in the sign bit, or in the last octet, are different clients.
    ecs('200.1.2.0', 24);
    ecs('72.1.2.0', 24);
    ecs('200.1.2.1', 32);
    ecs('255.255.255.255', 32);
    ecs('0.0.0.1', 32);
    expect(h.located.slice(1)).toEqual(['200.1.2.0', '72.1.2.0', '200.1.2.1', '255.255.255.255', '0.0.0.1']);
    ecs('200.1.2.0', 24);
    ecs('255.255.255.255', 32);
    expect(h.calls).toHaveLength(6);
    // AAAA for the same ECS address is its own entry.
    ecs('200.1.2.0', 24, TYPE.AAAA);
    expect(h.calls).toHaveLength(7);
    expect(h.responder.stats()).toMatchObject({ cacheHits: 3, cacheMisses: 7, cachedAnswers: 7 });
    expect(h.responder.zoneView!.cachedAnswers()).toBe(7);
  });

  test('IPv4 ECS: the cache bound counts these entries too; a failed decision is not cached', () => {
    const responder = new DnsResponder({ locator: { locate: () => NOWHERE }, decide: (_s, q) => decision(q), cacheSize: 3 });
    responder.setSnapshot(fixtureSnapshot());
    for (let i = 0; i < 10; i++) {
      responder.respond(encodeQuery({ name: 'app.example.com', edns: { options: [ecsIpv4(`198.51.${i}.0`, 24)] } }), PEER, 'udp');
    }
    expect(responder.stats().cachedAnswers).toBeLessThanOrEqual(3);
    expect(responder.zoneView!.cachedAnswers()).toBe(responder.stats().cachedAnswers);

    const h = harness();
    h.setDecide(() => {
      throw new Error('engine down');
    });
    const q = { name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.160', 27)] } };
    expect(send(h, q).msg.rcode).toBe('SERVFAIL');
    h.setDecide((_s, rq) => decision(rq));
    expect(send(h, q).msg.rcode).toBe('NOERROR');
    expect(h.calls).toHaveLength(2);
    expect(h.responder.stats()).toMatchObject({ cacheMisses: 2, cachedAnswers: 1 });
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
