/**
 * The batch UDP listener (native addon, udp-batch.ts) against the node:dgram one (udp-server.ts):
 * the same queries over real sockets to each, the replies compared octet for octet, and the peer
 * each reported to the responder compared too. Needs the addon (built by npm ci / npm run build
 * on Linux): this spec fails, rather than skips, when it is missing.
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as ipaddr from 'ipaddr.js';
import { GeoLocator } from '../geo/geo-locator';
import { DnsResponder, type PeerAddress, type Transport } from './responder';
import { ResponseRateLimiter } from './rate-limiter';
import { GEOIP_TEST_DB, fixtureSnapshot } from './test-fixtures';
import { BatchUdpListener, bindSharedUdpSocket, chooseUdpIo, loadUdpBatch } from './udp-batch';
import { UdpListener, type UdpSocketListener } from './udp-server';
import { TYPE } from './wire/constants';
import { ecsIpv4, ecsOption, encodeQuery } from './wire/query-builder';

/** The real responder, noting every peer it was handed. */
class RecordingResponder extends DnsResponder {
  readonly peers: string[] = [];
  override respond(msg: Buffer, peer: PeerAddress, transport: Transport): Buffer | null {
    this.peers.push(`${peer.address}/${peer.family}`);
    return super.respond(msg, peer, transport);
  }
}

type Io = 'batch' | 'dgram';
const IOS: readonly Io[] = ['dgram', 'batch'];

interface Rig {
  readonly responder: RecordingResponder;
  readonly listener: UdpSocketListener;
  readonly port: number;
  readonly logs: string[];
}

let locator: GeoLocator;

async function rig(io: Io, host: string, limiter: ResponseRateLimiter | null = null): Promise<Rig> {
  const responder = new RecordingResponder({ classifier: () => locator.classifier });
  responder.setSnapshot(fixtureSnapshot());
  const logs: string[] = [];
  const log = (level: 'warn' | 'error', message: string): void => {
    logs.push(`${level}: ${message}`);
  };
  const listener = io === 'batch' ? new BatchUdpListener(responder, log, limiter) : new UdpListener(responder, log, limiter);
  const port = await listener.bind(host, 0);
  return { responder, listener, port, logs };
}

/**
 * Sends every datagram from one client socket (each after the previous reply, or after `waitMs`
 * without one when `sequential`; all at once otherwise) and returns the reply to each (null: none).
 * Replies are matched to queries by their ID, so every datagram here has its own.
 */
async function exchange(
  family: 'udp4' | 'udp6',
  host: string,
  port: number,
  datagrams: readonly Buffer[],
  opts: { sequential: boolean; waitMs?: number },
): Promise<(Buffer | null)[]> {
  // Room for a burst of replies (the default receive buffer holds about 200 small datagrams).
  const socket = dgram.createSocket({ type: family, recvBufferSize: 1 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, family === 'udp4' ? '127.0.0.1' : '::1', resolve));
  const byId = new Map<number, Buffer>();
  let waiting: (() => void) | null = null;
  socket.on('message', (m) => {
    if (m.length >= 2) byId.set(m.readUInt16BE(0), m);
    waiting?.();
  });
  const waitMs = opts.waitMs ?? 300;
  const idOf = (d: Buffer): number => (d.length >= 2 ? d.readUInt16BE(0) : -1);
  try {
    if (opts.sequential) {
      for (const d of datagrams) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          waiting = () => {
            if (byId.has(idOf(d))) {
              clearTimeout(timer);
              resolve();
            }
          };
          socket.send(d, port, host);
        });
        waiting = null;
      }
    } else {
      for (const d of datagrams) socket.send(d, port, host);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && datagrams.some((d) => !byId.has(idOf(d)))) await new Promise((r) => setTimeout(r, 20));
    }
    return datagrams.map((d) => byId.get(idOf(d)) ?? null);
  } finally {
    socket.close();
  }
}

async function bothWays(
  host: string,
  client: { family: 'udp4' | 'udp6'; host: string },
  datagrams: readonly Buffer[],
  opts: { sequential: boolean; waitMs?: number; limiter?: () => ResponseRateLimiter },
): Promise<Record<Io, { replies: (Buffer | null)[]; rig: Rig }>> {
  const out = {} as Record<Io, { replies: (Buffer | null)[]; rig: Rig }>;
  for (const io of IOS) {
    const r = await rig(io, host, opts.limiter ? opts.limiter() : null);
    try {
      out[io] = { replies: await exchange(client.family, client.host, r.port, datagrams, opts), rig: r };
    } finally {
      await r.listener.close();
    }
  }
  return out;
}

const hex = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));

/** Questions covering the responder's paths: answers, ECS, NXDOMAIN, TC, errors, malformed input. */
function querySet(): Buffer[] {
  let id = 0x100;
  const q = (o: Parameters<typeof encodeQuery>[0]): Buffer => encodeQuery({ id: id++, ...o });
  return [
    q({ name: 'www.example.com', qtype: TYPE.A }),
    q({ name: 'app.example.com', qtype: TYPE.A, edns: { udpSize: 1232, options: [ecsIpv4('81.2.69.160', 24)] } }),
    q({ name: 'app.example.com', qtype: TYPE.AAAA, edns: { udpSize: 1232, options: [ecsIpv4('175.16.199.0', 24)] } }),
    q({ name: 'app.example.com', qtype: TYPE.A, edns: { udpSize: 1232, options: [ecsOption(2, 48, 0, Buffer.from('20010db80001', 'hex'))] } }),
    q({ name: 'private.example.com', qtype: TYPE.A, edns: { udpSize: 1232, options: [ecsIpv4('89.160.20.128', 25)] } }),
    q({ name: 'nope.example.com', qtype: TYPE.A }),
    q({ name: 'txt.example.com', qtype: TYPE.TXT, edns: {} }),
    // 40 A records: truncated without EDNS and with a 512-octet EDNS size, whole with 4096.
    q({ name: 'big.example.com', qtype: TYPE.A }),
    q({ name: 'big.example.com', qtype: TYPE.A, edns: { udpSize: 512 } }),
    q({ name: 'big.example.com', qtype: TYPE.A, edns: { udpSize: 4096 } }),
    q({ name: 'www.example.com', qtype: TYPE.A, edns: { version: 1 } }),
    q({ name: 'version.bind', qtype: TYPE.TXT, qclass: 3 }),
    q({ name: 'www.example.com', qtype: TYPE.A, opcode: 2 }),
    q({ name: 'www.example.com', qtype: TYPE.A, qdcount: 2 }),
    // A response (QR set): dropped by both.
    q({ name: 'www.example.com', qtype: TYPE.A, extraFlags: 0x8000 }),
    // A question cut short: FORMERR.
    q({ name: 'www.example.com', qtype: TYPE.A }).subarray(0, 20),
    // Bad ECS (source longer than the address family allows).
    q({ name: 'app.example.com', qtype: TYPE.A, edns: { options: [ecsOption(1, 40, 0, Buffer.from([1, 2, 3, 4, 5]))] } }),
    q({ name: 'www.example.com', qtype: TYPE.A, trailing: Buffer.from([1, 2, 3]) }),
  ];
}

beforeAll(async () => {
  locator = await GeoLocator.open(GEOIP_TEST_DB);
});

describe('the native addon', () => {
  test('loads on Linux and DNS_UDP_IO=auto chooses it', () => {
    expect(process.platform).toBe('linux');
    expect(loadUdpBatch()).toHaveProperty('addon');
    expect(chooseUdpIo('auto')).toEqual({ io: 'batch', reason: null });
    expect(chooseUdpIo('batch')).toEqual({ io: 'batch', reason: null });
    expect(chooseUdpIo('dgram')).toEqual({ io: 'dgram', reason: null });
  });

  test('a port in use is refused with EADDRINUSE, as dgram does', async () => {
    const r = await rig('batch', '127.0.0.1');
    try {
      const other = new BatchUdpListener(r.responder, () => undefined);
      await expect(other.bind('127.0.0.1', r.port)).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
    } finally {
      await r.listener.close();
    }
  });

  test('with exclusive false (SO_REUSEPORT) two sockets share the port and both answer', async () => {
    const a = await rig('batch', '127.0.0.1');
    const responder = new RecordingResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
    await a.listener.close();
    const first = new BatchUdpListener(a.responder, () => undefined);
    const second = new BatchUdpListener(responder, () => undefined);
    try {
      const port = await first.bind('127.0.0.1', 0, false);
      expect(await second.bind('127.0.0.1', port, false)).toBe(port);
      // The kernel spreads clients over the two by their address and port: many client sockets reach both.
      for (let i = 0; i < 40 && (first.counters.received === 0 || second.counters.received === 0); i++) {
        const [reply] = await exchange('udp4', '127.0.0.1', port, [encodeQuery({ id: i + 1, name: 'www.example.com' })], { sequential: true });
        expect(reply).not.toBeNull();
      }
      expect(first.counters.received).toBeGreaterThan(0);
      expect(second.counters.received).toBeGreaterThan(0);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('a socket bound by bindSharedUdpSocket (the DNS workers\' shared socket) is read by adopt()', async () => {
    const shared = await bindSharedUdpSocket('127.0.0.1', 0);
    const responder = new RecordingResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
    const listener = new BatchUdpListener(responder, () => undefined);
    try {
      expect(shared.port).toBeGreaterThan(0);
      // adopt() owns the descriptor from here (it closes it); the main process keeps its own in DNS workers.
      expect(listener.adopt(shared.fd)).toBe(shared.port);
      const [reply] = await exchange('udp4', '127.0.0.1', shared.port, [encodeQuery({ id: 7, name: 'www.example.com' })], { sequential: true });
      expect(reply).not.toBeNull();
      expect(reply!.readUInt16BE(6)).toBe(1);
      expect(listener.counters).toMatchObject({ received: 1, replied: 1 });
      await expect(bindSharedUdpSocket('127.0.0.1', shared.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await listener.close();
    }
  });
  test('sockets bound with spread (a socket per DNS worker): one client\'s queries reach every socket of the group', async () => {
    const first = await bindSharedUdpSocket('127.0.0.1', 0, 2);
    const second = await bindSharedUdpSocket('127.0.0.1', first.port, 2);
    const responder = new DnsResponder({ classifier: () => locator.classifier });
    responder.setSnapshot(fixtureSnapshot());
    const a = new BatchUdpListener(responder, () => undefined);
    const b = new BatchUdpListener(responder, () => undefined);
    try {
      expect(second.port).toBe(first.port);
      a.adopt(first.fd);
      b.adopt(second.fd);
      // One client socket (one source address and port): the hash of SO_REUSEPORT alone would give every query to one socket.
      const queries = Array.from({ length: 60 }, (_, i) => encodeQuery({ id: i + 1, name: 'www.example.com' }));
      const replies = await exchange('udp4', '127.0.0.1', first.port, queries, { sequential: true });
      expect(replies.every((r) => r !== null && r.readUInt16BE(6) === 1)).toBe(true);
      expect(a.counters.received + b.counters.received).toBe(60);
      expect(a.counters.received).toBeGreaterThan(5);
      expect(b.counters.received).toBeGreaterThan(5);
      // A socket without SO_REUSEPORT still cannot take the port.
      await expect(bindSharedUdpSocket('127.0.0.1', first.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('batch and dgram listeners give identical replies over real sockets', () => {
  test('udp4 on 127.0.0.1: answers, truncation, errors and malformed datagrams', async () => {
    const datagrams = querySet();
    const r = await bothWays('127.0.0.1', { family: 'udp4', host: '127.0.0.1' }, datagrams, { sequential: true });
    expect(r.batch.replies.map(hex)).toEqual(r.dgram.replies.map(hex));
    // Not vacuous: most are answered, the QR-set one is not, big.example.com without EDNS is truncated.
    const replies = r.batch.replies;
    expect(replies.filter((x) => x !== null).length).toBe(datagrams.length - 1);
    expect(replies[14]).toBeNull();
    expect(replies[7]![2] & 0x02).toBe(0x02);
    expect(replies[8]![2] & 0x02).toBe(0x02);
    expect(replies[9]![2] & 0x02).toBe(0);
    expect(r.batch.rig.responder.peers).toEqual(r.dgram.rig.responder.peers);
    expect(new Set(r.batch.rig.responder.peers)).toEqual(new Set(['127.0.0.1/4']));
    expect(r.batch.rig.listener.counters).toEqual(r.dgram.rig.listener.counters);
    expect(r.batch.rig.listener.counters).toMatchObject({ received: datagrams.length, replied: datagrams.length - 1, sendErrors: 0, socketErrors: 0 });
  });

  test('udp6 on ::1: IPv6 peers', async () => {
    const datagrams = querySet();
    const r = await bothWays('::1', { family: 'udp6', host: '::1' }, datagrams, { sequential: true });
    expect(r.batch.replies.map(hex)).toEqual(r.dgram.replies.map(hex));
    expect(r.batch.replies.filter((x) => x !== null).length).toBe(datagrams.length - 1);
    expect(r.batch.rig.responder.peers).toEqual(r.dgram.rig.responder.peers);
    expect(new Set(r.batch.rig.responder.peers)).toEqual(new Set(['::1/6']));
  });

  test('udp6 on :: (dual stack): an IPv4 client is reported as ::ffff:127.0.0.1, family 6', async () => {
    const datagrams = querySet();
    const r = await bothWays('::', { family: 'udp4', host: '127.0.0.1' }, datagrams, { sequential: true });
    expect(r.batch.replies.map(hex)).toEqual(r.dgram.replies.map(hex));
    expect(r.batch.replies.filter((x) => x !== null).length).toBe(datagrams.length - 1);
    expect(r.batch.rig.responder.peers).toEqual(r.dgram.rig.responder.peers);
    expect(new Set(r.batch.rig.responder.peers)).toEqual(new Set(['::ffff:127.0.0.1/6']));
  });

  test('response rate limiting: the same sends, slips and drops', async () => {
    // 1 answer a second per client /24, every 2nd limited answer slipped (TC, no answers).
    const limiter = () => new ResponseRateLimiter({ responsesPerSecond: 1, errorsPerSecond: 1, slip: 2, exempt: [] as [ipaddr.IPv4, number][] });
    const datagrams = Array.from({ length: 10 }, (_, i) => encodeQuery({ id: 0x500 + i, name: 'www.example.com', qtype: TYPE.A }));
    const r = await bothWays('127.0.0.1', { family: 'udp4', host: '127.0.0.1' }, datagrams, { sequential: true, waitMs: 150, limiter });
    expect(r.batch.replies.map(hex)).toEqual(r.dgram.replies.map(hex));
    const replies = r.batch.replies;
    const dropped = replies.filter((x) => x === null).length;
    const slipped = replies.filter((x) => x !== null && (x[2] & 0x02) !== 0).length;
    expect(replies[0]).not.toBeNull();
    expect(replies[0]![2] & 0x02).toBe(0);
    expect(dropped).toBeGreaterThan(0);
    expect(slipped).toBeGreaterThan(0);
    expect(r.batch.rig.listener.counters).toEqual(r.dgram.rig.listener.counters);
  });

  test('a burst of 120 datagrams (more than one batch of 64): every one answered, identically', async () => {
    const datagrams = Array.from({ length: 120 }, (_, i) =>
      encodeQuery({ id: 0x1000 + i, name: i % 3 === 0 ? 'app.example.com' : 'www.example.com', qtype: TYPE.A, edns: { udpSize: 1232, options: [ecsIpv4(`81.2.69.${i % 250}`, 24)] } }),
    );
    const r = await bothWays('127.0.0.1', { family: 'udp4', host: '127.0.0.1' }, datagrams, { sequential: false });
    // Fewer would be lost to the sockets' receive buffers (each small datagram takes about 1 KiB of it).
    expect(r.dgram.replies.filter((x) => x === null).length).toBe(0);
    expect(r.batch.replies.filter((x) => x === null).length).toBe(0);
    expect(r.batch.replies.map(hex)).toEqual(r.dgram.replies.map(hex));
    expect(r.batch.rig.listener.counters).toMatchObject({ received: 120, replied: 120, sendErrors: 0, socketErrors: 0 });
  });
});

describe('pump(): queries answered from the caller, while the event loop is busy', () => {
  test('a query waiting on the socket is answered by pump() before the loop gets to it', async () => {
    const r = await rig('batch', '127.0.0.1');
    const listener = r.listener as BatchUdpListener;
    try {
      expect(listener.pump()).toBe(0);
      // A separate process sends one query and prints the reply it gets (hex), or "timeout".
      const query = encodeQuery({ id: 0x4242, name: 'www.example.com', qtype: TYPE.A });
      const script = [
        'import socket, sys',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)',
        `s.sendto(bytes.fromhex('${query.toString('hex')}'), ('127.0.0.1', ${r.port}))`,
        'try: print(s.recvfrom(4096)[0].hex())',
        'except socket.timeout: print("timeout")',
      ].join('\n');
      const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // The event loop is held here: only pump() can read the socket until this loop ends.
      const deadline = Date.now() + 5000;
      let answered = 0;
      while (answered === 0 && Date.now() < deadline) answered = listener.pump();
      expect(answered).toBe(1);
      expect(listener.counters).toMatchObject({ received: 1, replied: 1 });
      await exited;
      const reply = Buffer.from(out.trim(), 'hex');
      expect(reply.readUInt16BE(0)).toBe(0x4242);
      expect(hex(reply)).toBe(hex(r.responder.respond(query, { address: '127.0.0.1', family: 4 }, 'udp')));
    } finally {
      await listener.close();
    }
  });
});
