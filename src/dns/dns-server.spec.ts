/**
 * Integration: DnsServer on 127.0.0.1 port 0 (UDP and TCP), the real snapshot builder, routing
 * engine and GeoLocator over MaxMind's test database, queried with dns-packet over real sockets.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { GeoLocator } from '../geo/geo-locator';
import { decide } from '../routing/engine';
import type { RoutingSnapshot } from '../routing/types';
import { DnsResponder, type Classifier } from './responder';
import { AP_NORTHEAST_V4, AP_NORTHEAST_V6, BIG_V4, EU_WEST_V4, GEOIP_TEST_DB, US_EAST_V4, fixtureSnapshot, type DecodedReply } from './test-fixtures';
import { DnsServer, literalLookup } from './udp-server';
import { TYPE } from './wire/constants';
import { ecsIpv4, encodeQuery } from './wire/query-builder';

const decodeReply = (b: Buffer): DecodedReply => dnsPacket.decode(b) as unknown as DecodedReply;

const HOST = '127.0.0.1';

type Question = { name: string; type: dnsPacket.RecordType | 'ANY'; class?: dnsPacket.RecordClass };
type QueryExtras = { id?: number; rd?: boolean; ecs?: { ip: string; source: number }; edns?: boolean; udpSize?: number };

function query(q: Question, extras: QueryExtras = {}): Buffer {
  const additionals: dnsPacket.Answer[] = [];
  if (extras.edns || extras.ecs || extras.udpSize) {
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: extras.udpSize ?? 1232,
      options: extras.ecs ? [{ code: 'CLIENT_SUBNET', family: extras.ecs.ip.includes(':') ? 2 : 1, sourcePrefixLength: extras.ecs.source, scopePrefixLength: 0, ip: extras.ecs.ip }] : [],
    } as unknown as dnsPacket.Answer);
  }
  return dnsPacket.encode({
    type: 'query',
    id: extras.id ?? Math.floor(Math.random() * 65535),
    flags: extras.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ class: 'IN', ...q } as dnsPacket.Question],
    additionals,
  });
}

/** One datagram out; the reply, or null when none arrives within `waitMs`. */
function udpExchange(port: number, msg: Buffer, waitMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, waitMs);
    socket.once('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.send(msg, port, HOST);
  });
}

async function udp(port: number, msg: Buffer): Promise<{ raw: Buffer; msg: DecodedReply }> {
  const raw = await udpExchange(port, msg);
  if (raw === null) throw new Error('no UDP reply');
  return { raw, msg: decodeReply(raw) };
}

function frame(msg: Buffer): Buffer {
  const b = Buffer.alloc(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  msg.copy(b, 2);
  return b;
}

interface TcpResult {
  replies: Buffer[];
  /** True when the server closed the connection. */
  closed: boolean;
}

/**
 * Opens a connection, writes `chunks` (spaced by `gapMs`), and collects framed replies until
 * `expect` arrived, the server closed, or `waitMs` passed.
 */
function tcpExchange(port: number, chunks: Buffer[], expectReplies: number, opts: { gapMs?: number; waitMs?: number } = {}): Promise<TcpResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    const replies: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let closed = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closed });
    };
    const timer = setTimeout(finish, opts.waitMs ?? 3000);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const n = pending.readUInt16BE(0);
        replies.push(pending.subarray(2, 2 + n));
        pending = pending.subarray(2 + n);
      }
      if (replies.length >= expectReplies && expectReplies > 0) finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', (err) => {
      if (!done) reject(err);
    });
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    });
  });
}

async function tcp(port: number, msg: Buffer): Promise<{ raw: Buffer; msg: DecodedReply }> {
  const { replies } = await tcpExchange(port, [frame(msg)], 1);
  if (replies.length !== 1) throw new Error('no TCP reply');
  return { raw: replies[0], msg: decodeReply(replies[0]) };
}

type Opt = { udpPayloadSize: number; ednsVersion: number; extendedRcode: number; options: Array<{ code: number; [k: string]: unknown }> };
const optOf = (m: DecodedReply): Opt | undefined => m.additionals?.find((a) => a.type === 'OPT') as unknown as Opt | undefined;
const addresses = (m: DecodedReply): string[] => (m.answers ?? []).filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => a.data as string);

describe('DnsServer over UDP and TCP', () => {
  let locator: GeoLocator;
  let responder: DnsResponder;
  let server: DnsServer;
  let port: number;
  let snapshot: RoutingSnapshot;
  /** The explain engine's decision for the same client: what the DNS answer must agree with. */
  const explain = (fqdn: string, ip: string) =>
    decide(snapshot, { fqdn, qtype: 'A', client: { ip, family: 4, location: locator.locate(ip), source: 'ecs' } })!;

  beforeAll(async () => {
    locator = await GeoLocator.open(GEOIP_TEST_DB);
    snapshot = fixtureSnapshot();
    // 198.18.0.0/24 (a benchmarking range) makes locating fail: a read error of the database.
    const failing = (): Classifier => {
      const real = locator.classifier;
      return {
        classes: real.classes,
        get prefixLength() {
          return real.prefixLength;
        },
        get family() {
          return real.family;
        },
        classifyV4: (a, b, c, d) => {
          if (a === 198 && b === 18 && c === 0) throw new Error('database read failure');
          return real.classifyV4(a, b, c, d);
        },
        classifyV6: (bytes, length) => real.classifyV6(bytes, length),
        classifyText: (ip) => real.classifyText(ip),
      };
    };
    responder = new DnsResponder({ classifier: failing });
    responder.setSnapshot(snapshot);
    server = new DnsServer(responder, { host: HOST, port: 0 });
    ({ port } = await server.listen());
  });

  afterAll(async () => {
    await server.close();
  });

  test('UDP and TCP share the port picked for port 0', async () => {
    expect(port).toBeGreaterThan(0);
    expect(server.port).toBe(port);
    expect((await udp(port, query({ name: 'www.example.com', type: 'A' }))).msg.rcode).toBe('NOERROR');
    expect((await tcp(port, query({ name: 'www.example.com', type: 'A' }))).msg.rcode).toBe('NOERROR');
  });

  test('static answer: AA set, RD copied, RA clear, ID echoed', async () => {
    const { msg } = await udp(port, query({ name: 'www.example.com', type: 'A' }, { id: 4321 }));
    expect(msg).toMatchObject({ id: 4321, flag_aa: true, flag_rd: true, flag_ra: false, rcode: 'NOERROR' });
    expect(addresses(msg)).toEqual(['192.0.2.80']);
    expect((await udp(port, query({ name: 'www.example.com', type: 'A' }, { rd: false }))).msg.flag_rd).toBe(false);
  });

  test('apex SOA and NS; MX, TXT, CNAME', async () => {
    const soa = (await udp(port, query({ name: 'example.com', type: 'SOA' }))).msg;
    expect(soa.answers![0]).toMatchObject({ type: 'SOA', data: { mname: 'ns1.example.com', rname: 'hostmaster.example.com' } });
    const ns = (await udp(port, query({ name: 'example.com', type: 'NS' }))).msg;
    expect(ns.answers!.map((a) => a.data).sort()).toEqual(['ns1.example.com', 'ns2.example.com']);
    const mx = (await udp(port, query({ name: 'example.com', type: 'MX' }))).msg;
    expect(mx.answers![0].data).toEqual({ preference: 10, exchange: 'mail.example.com' });
    const txt = (await udp(port, query({ name: 'txt.example.com', type: 'TXT' }))).msg;
    expect(txt.answers).toHaveLength(2);
    const cname = (await udp(port, query({ name: 'alias.example.com', type: 'A' }))).msg;
    expect(cname.answers!.map((a) => a.type)).toEqual(['CNAME', 'A']);
  });

  test('NXDOMAIN with SOA; NODATA with SOA', async () => {
    const nx = (await udp(port, query({ name: 'nope.example.com', type: 'A' }))).msg;
    expect(nx).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [] });
    expect(nx.authorities!.map((a) => `${a.name} ${a.type} ${a.ttl}`)).toEqual(['example.com SOA 300']);
    const nodata = (await udp(port, query({ name: 'www.example.com', type: 'AAAA' }))).msg;
    expect(nodata).toMatchObject({ rcode: 'NOERROR', flag_aa: true, answers: [] });
    expect(nodata.authorities!.map((a) => a.type)).toEqual(['SOA']);
  });

  test('REFUSED outside every zone, for CH version.bind, and for AXFR over TCP and UDP', async () => {
    const outside = (await udp(port, query({ name: 'example.org', type: 'A' }))).msg;
    expect(outside).toMatchObject({ rcode: 'REFUSED', flag_aa: false });
    const chaos = (await udp(port, query({ name: 'version.bind', type: 'TXT', class: 'CH' }))).msg;
    expect(chaos).toMatchObject({ rcode: 'REFUSED', answers: [] });
    const axfrTcp = (await tcp(port, query({ name: 'example.com', type: 'AXFR' }))).msg;
    expect(axfrTcp).toMatchObject({ rcode: 'REFUSED', answers: [] });
    const axfrUdp = (await udp(port, query({ name: 'example.com', type: 'AXFR' }))).msg;
    expect(axfrUdp).toMatchObject({ rcode: 'REFUSED', answers: [] });
  });

  test('NOTIMP for OPCODE 15 (question echoed); FORMERR for QDCOUNT 2 and for an invalid ECS', async () => {
    const notimp = await udp(port, encodeQuery({ opcode: 15, name: 'www.example.com' }));
    expect(notimp.raw[3] & 0x0f).toBe(4);
    expect(notimp.raw.readUInt16BE(4)).toBe(1);
    const two = await udpExchange(port, encodeQuery({ qdcount: 2 }));
    expect(two![3] & 0x0f).toBe(1);
    const badEcs = (await udp(port, encodeQuery({ name: 'app.example.com', edns: { options: [ecsIpv4('81.2.69.0', 24, 16)] } }))).msg;
    expect(badEcs.rcode).toBe('FORMERR');
    expect(optOf(badEcs)).toBeDefined();
  });

  test('BADVERS for EDNS version 1; OPT echo with 1232 otherwise', async () => {
    const badvers = await udp(port, encodeQuery({ name: 'www.example.com', edns: { version: 1 } }));
    expect(badvers.raw[3] & 0x0f).toBe(0);
    expect(optOf(badvers.msg)).toMatchObject({ extendedRcode: 1, ednsVersion: 0, udpPayloadSize: 1232 });
    expect(badvers.msg.answers).toEqual([]);
    const ok = (await udp(port, query({ name: 'www.example.com', type: 'A' }, { edns: true, udpSize: 4096 }))).msg;
    expect(optOf(ok)).toMatchObject({ udpPayloadSize: 1232, ednsVersion: 0, extendedRcode: 0 });
  });

  test('ECS London (81.2.69.160/27) -> eu-west-1, scope 27; echo of family/source/address', async () => {
    const { msg } = await udp(port, query({ name: 'app.example.com', type: 'A' }, { ecs: { ip: '81.2.69.160', source: 27 } }));
    expect(msg).toMatchObject({ rcode: 'NOERROR', flag_aa: true });
    expect(addresses(msg).length).toBeGreaterThan(0);
    expect(EU_WEST_V4).toEqual(expect.arrayContaining(addresses(msg)));
    expect(msg.answers!.every((a) => a.ttl === 30)).toBe(true);
    expect(optOf(msg)!.options).toEqual([expect.objectContaining({ code: 8, family: 1, sourcePrefixLength: 27, scopePrefixLength: 27, ip: '81.2.69.160' })]);
    expect(explain('app.example.com', '81.2.69.160')).toMatchObject({ reason: 'nearest-healthy', addresses: addresses(msg) });
  });

  test('ECS Changchun (175.16.199.0/24) -> ap-northeast-1, A and AAAA', async () => {
    const a = (await udp(port, query({ name: 'app.example.com', type: 'A' }, { ecs: { ip: '175.16.199.0', source: 24 } }))).msg;
    expect(addresses(a)).toEqual(AP_NORTHEAST_V4);
    expect(optOf(a)!.options[0]).toMatchObject({ sourcePrefixLength: 24, scopePrefixLength: 24 });
    const aaaa = (await tcp(port, query({ name: 'app.example.com', type: 'AAAA' }, { ecs: { ip: '175.16.199.0', source: 24 } }))).msg;
    expect(addresses(aaaa)).toEqual(AP_NORTHEAST_V6);
  });

  test('ECS Milton, WA (216.160.83.56/29) -> us-east-1; no ECS from loopback -> the service order', async () => {
    const milton = (await udp(port, query({ name: 'app.example.com', type: 'A' }, { ecs: { ip: '216.160.83.56', source: 29 } }))).msg;
    expect(addresses(milton)).toEqual(US_EAST_V4);
    const loopback = (await udp(port, query({ name: 'app.example.com', type: 'A' }))).msg;
    expect(addresses(loopback)).toEqual(US_EAST_V4);
    expect(explain('app.example.com', '127.0.0.1')).toMatchObject({ reason: 'unknown-location', addresses: addresses(loopback) });
  });

  test('the question is echoed in its original letter case', async () => {
    const q = query({ name: 'ApP.eXaMpLe.CoM', type: 'A' });
    const { raw, msg } = await udp(port, q);
    expect(raw.subarray(12, 12 + 17)).toEqual(q.subarray(12, 12 + 17));
    expect(msg.questions![0].name).toBe('ApP.eXaMpLe.CoM');
    expect(msg.answers![0].name).toBe('ApP.eXaMpLe.CoM');
  });

  test('ANY is minimal (RFC 8482)', async () => {
    const { raw, msg } = await udp(port, query({ name: 'app.example.com', type: 'ANY' }));
    expect(msg.answers).toEqual([expect.objectContaining({ type: 'HINFO', data: { cpu: 'RFC8482', os: '' } })]);
    expect(raw.length).toBeLessThanOrEqual(512);
  });

  test('TC over UDP when the answer does not fit; the full answer over TCP', async () => {
    const truncated = (await udp(port, query({ name: 'big.example.com', type: 'A' }))).msg;
    expect(truncated).toMatchObject({ flag_tc: true, answers: [] });
    expect(truncated.questions![0].name).toBe('big.example.com');
    const small = (await udp(port, query({ name: 'big.example.com', type: 'A' }, { udpSize: 512 }))).msg;
    expect(small.flag_tc).toBe(true);
    expect(optOf(small)).toBeDefined();
    const full = (await tcp(port, query({ name: 'big.example.com', type: 'A' }))).msg;
    expect(full.flag_tc).toBe(false);
    expect(addresses(full)).toEqual(BIG_V4);
  });

  test('100 pipelined queries on one TCP connection: 100 replies, in order, matched by ID', async () => {
    const names = ['www.example.com', 'nope.example.com', 'app.example.com', 'example.com', 'big.example.com'];
    const queries = Array.from({ length: 100 }, (_, i) => query({ name: names[i % names.length], type: 'A' }, { id: 1000 + i }));
    const { replies, closed } = await tcpExchange(port, [Buffer.concat(queries.map(frame))], 100);
    expect(closed).toBe(false);
    expect(replies).toHaveLength(100);
    const decoded = replies.map((r) => decodeReply(r));
    expect(decoded.map((d) => d.id)).toEqual(queries.map((_, i) => 1000 + i));
    expect(decoded.map((d) => d.rcode)).toEqual(queries.map((_, i) => (i % 5 === 1 ? 'NXDOMAIN' : 'NOERROR')));
  });

  test('residency refusal: SERVFAIL with EDE 18 and the decision detail as text', async () => {
    // Linköping, SE: an EU client; private.example.com is GDPR-resident with no EU region.
    const { msg } = await udp(port, query({ name: 'private.example.com', type: 'A' }, { ecs: { ip: '89.160.20.128', source: 25 } }));
    expect(msg).toMatchObject({ rcode: 'SERVFAIL', answers: [] });
    const last = explain('private.example.com', '89.160.20.128');
    expect(last).toMatchObject({ service: 'private.example.com', reason: 'residency-no-eligible-region' });
    const ede = optOf(msg)!.options.find((o) => o.code === 15) as unknown as { data: Buffer };
    expect(ede.data.readUInt16BE(0)).toBe(18);
    expect(ede.data.subarray(2).toString('utf8')).toBe(last.detail);
    expect(last.detail.length).toBeGreaterThan(0);
    // A non-EU client is answered.
    const milton = (await udp(port, query({ name: 'private.example.com', type: 'A' }, { ecs: { ip: '216.160.83.56', source: 29 } }))).msg;
    expect(addresses(milton)).toEqual(US_EAST_V4);
  });

  test('a failure while routing is SERVFAIL for that query only; the next query is fine', async () => {
    const before = server.counters().handlerErrors;
    const boom = { ecs: { ip: '198.18.0.1', source: 32 } };
    expect((await udp(port, query({ name: 'boom.example.com', type: 'A' }, boom))).msg.rcode).toBe('SERVFAIL');
    expect((await udp(port, query({ name: 'app.example.com', type: 'A' }))).msg.rcode).toBe('NOERROR');
    expect((await tcp(port, query({ name: 'boom.example.com', type: 'A' }, boom))).msg.rcode).toBe('SERVFAIL');
    expect(server.counters().handlerErrors).toBe(before + 2);
  });

  test('garbage: no reply, counted, and the server keeps serving', async () => {
    const before = server.counters();
    expect(await udpExchange(port, Buffer.from([1, 2, 3]), 300)).toBeNull();
    expect(await udpExchange(port, encodeQuery({ extraFlags: 0x8000 }), 300)).toBeNull();
    const after = server.counters();
    expect(after.malformedDropped).toBe(before.malformedDropped + 1);
    expect(after.responsesDropped).toBe(before.responsesDropped + 1);
    expect((await udp(port, query({ name: 'www.example.com', type: 'A' }))).msg.rcode).toBe('NOERROR');
  });

  test('TCP: a frame arriving one octet at a time is answered', async () => {
    const f = frame(query({ name: 'www.example.com', type: 'A' }, { id: 77 }));
    const chunks = [...f].map((b) => Buffer.from([b]));
    const { replies } = await tcpExchange(port, chunks, 1, { gapMs: 1 });
    expect(replies).toHaveLength(1);
    expect(decodeReply(replies[0])).toMatchObject({ id: 77, rcode: 'NOERROR' });
  });

  test('TCP: a zero length prefix closes the connection, after earlier replies', async () => {
    const f = frame(query({ name: 'www.example.com', type: 'A' }, { id: 5 }));
    const { replies, closed } = await tcpExchange(port, [Buffer.concat([f, Buffer.from([0, 0]), f])], 0, { waitMs: 2000 });
    expect(closed).toBe(true);
    expect(replies).toHaveLength(1);
  });

  test('TCP: an unanswerable message closes the connection; others are unaffected', async () => {
    const bad = await tcpExchange(port, [frame(Buffer.from([1, 2, 3]))], 0, { waitMs: 2000 });
    expect(bad.closed).toBe(true);
    expect(bad.replies).toHaveLength(0);
    expect((await tcp(port, query({ name: 'www.example.com', type: 'A' }))).msg.rcode).toBe('NOERROR');
  });

  test('counters are a plain object', () => {
    const c = server.counters();
    expect(c.replies.udp.NOERROR).toBeGreaterThan(0);
    expect(c.replies.tcp.NOERROR).toBeGreaterThan(0);
    expect(c.udp.received).toBeGreaterThan(0);
    expect(c.tcp.accepted).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });
});

describe('DnsServer limits and lifecycle', () => {
  let responder: DnsResponder;
  beforeAll(async () => {
    const locator = await GeoLocator.open(GEOIP_TEST_DB);
    responder = new DnsResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
  });

  test('idle TCP connections are closed after the idle timeout', async () => {
    const server = new DnsServer(responder, { host: HOST, port: 0, idleTimeoutMs: 200 });
    const { port } = await server.listen();
    try {
      const started = Date.now();
      const { closed } = await tcpExchange(port, [], 0, { waitMs: 3000 });
      expect(closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(server.counters().tcp.idleClosed).toBe(1);
    } finally {
      await server.close();
    }
  });

  test('at the connection cap the least recently active connection is closed', async () => {
    const server = new DnsServer(responder, { host: HOST, port: 0, maxTcpConnections: 2 });
    const { port } = await server.listen();
    const open = (): Promise<net.Socket> =>
      new Promise((resolve) => {
        const s = net.connect({ host: HOST, port }, () => resolve(s));
        s.on('error', () => undefined);
      });
    try {
      const first = await open();
      const firstClosed = new Promise<void>((resolve) => first.on('close', () => resolve()));
      await open();
      await new Promise((r) => setTimeout(r, 50));
      const third = await tcpExchange(port, [frame(query({ name: 'www.example.com', type: 'A' }))], 1);
      expect(third.replies).toHaveLength(1);
      await firstClosed;
      expect(server.counters().tcp.evicted).toBe(1);
    } finally {
      await server.close();
    }
  });

  test('per-client cap refuses further connections from one address', async () => {
    const server = new DnsServer(responder, { host: HOST, port: 0, maxTcpConnectionsPerClient: 1 });
    const { port } = await server.listen();
    try {
      const keep = net.connect({ host: HOST, port });
      await new Promise((r) => keep.once('connect', r));
      await new Promise((r) => setTimeout(r, 50));
      const refused = await tcpExchange(port, [frame(query({ name: 'www.example.com', type: 'A' }))], 1, { waitMs: 1500 });
      expect(refused.closed).toBe(true);
      expect(refused.replies).toHaveLength(0);
      expect(server.counters().tcp.refused).toBe(1);
      keep.destroy();
    } finally {
      await server.close();
    }
  });

  test('a fixed port taken by another process is an error; close() frees the port', async () => {
    const first = new DnsServer(responder, { host: HOST, port: 0 });
    const { port } = await first.listen();
    const second = new DnsServer(responder, { host: HOST, port });
    await expect(second.listen()).rejects.toThrow(/EADDRINUSE/);
    await first.close();
    const again = new DnsServer(responder, { host: HOST, port });
    await expect(again.listen()).resolves.toEqual({ port });
    expect((await udp(port, encodeQuery({ name: 'www.example.com', qtype: TYPE.A }))).msg.rcode).toBe('NOERROR');
    await again.close();
  });
});

describe('literalLookup (the UDP socket lookup)', () => {
  test('an address literal comes back synchronously, with its family; a name goes to dns.lookup', async () => {
    const seen: Array<[string, number]> = [];
    literalLookup('192.0.2.1', 4, (err, address, family) => {
      expect(err).toBeNull();
      seen.push([address, family]);
    });
    literalLookup('2001:db8::1', 6, (_err, address, family) => seen.push([address, family]));
    literalLookup('::ffff:192.0.2.1', 6, (_err, address, family) => seen.push([address, family]));
    expect(seen).toEqual([
      ['192.0.2.1', 4],
      ['2001:db8::1', 6],
      ['::ffff:192.0.2.1', 6],
    ]);
    const viaDns = new Promise<[string, number]>((resolve, reject) => {
      literalLookup('localhost', 4, (err, address, family) => (err ? reject(err) : resolve([address, family])));
    });
    await expect(viaDns).resolves.toEqual(['127.0.0.1', 4]);
  });
});
