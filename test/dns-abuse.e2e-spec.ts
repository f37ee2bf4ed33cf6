/**
 * DNS over TCP under abuse, against the real application (demo configuration) with the server's
 * defaults (src/dns/README.md): idle timeout 10 s (also for a frame that takes longer than that
 * to arrive), 1,000 connections in all (the least recently active one is closed to admit a new
 * one), 100 per source address (further ones are accepted by the kernel and closed at once by
 * the server, without a reply).
 *
 * Every client here is on 127.0.0.0/8: each scenario binds its own source address (127.0.0.2,
 * 127.0.0.3, ...), which the server counts as a separate client, so "other clients" are real
 * other clients for the per-address cap, while all traffic still goes to 127.0.0.1. The three
 * slow scenarios (a one-octet trickle, a 65,535 length prefix with 10 octets, 1,000 idle
 * connections) start together in beforeAll and each test awaits its own, so the file takes one
 * idle timeout (~13 s), not three.
 */
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { addresses, query } from './support/dns-client';

const IDLE_MS = 10_000;
const LONDON = '81.2.69.0/24';
const EU_WEST_1 = '198.51.100.10';

function encodeQuery(id: number, name = 'app.example.com'): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] });
}

function framed(msg: Buffer): Buffer {
  const out = Buffer.alloc(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or undefined after `ms` (the timer is cleared either way, so Jest can exit). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line of figures per scenario, for bench/RESULTS.md. */
const report = (line: string) => process.stdout.write(`dns-abuse: ${line}\n`);

/** A client connection and what happened to it. */
interface Watched {
  socket: net.Socket;
  openedAt: number;
  /** When the server closed it (FIN or RST), or null while open. */
  closedAt: number | null;
  /** 'fin' when the server ended it, 'reset' on ECONNRESET. */
  closedHow: 'fin' | 'reset' | null;
  received: Buffer;
  closed: Promise<void>;
}

/** Resolves once connected; with `tolerant`, also when the server closed it before that (then closedAt is set). */
function connectFrom(port: number, localAddress: string, tolerant = false): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress, noDelay: true });
    let markClosed: () => void = () => undefined;
    const w: Watched = {
      socket,
      openedAt: 0,
      closedAt: null,
      closedHow: null,
      received: Buffer.alloc(0),
      closed: new Promise<void>((r) => (markClosed = r)),
    };
    socket.on('data', (d) => (w.received = Buffer.concat([w.received, d])));
    socket.on('end', () => {
      w.closedHow ??= 'fin';
      w.closedAt ??= Date.now();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (w.openedAt === 0 && !tolerant) reject(e);
      w.closedHow ??= e.code === 'ECONNRESET' ? 'reset' : 'fin';
      w.closedAt ??= Date.now();
    });
    socket.on('close', () => {
      w.closedAt ??= Date.now();
      w.closedHow ??= 'fin';
      markClosed();
      if (w.openedAt === 0 && tolerant) {
        w.openedAt = w.closedAt;
        resolve(w);
      }
    });
    socket.once('connect', () => {
      w.openedAt = Date.now();
      resolve(w);
    });
  });
}

/** Replies (length-framed) in `buf`. */
function replies(buf: Buffer): dnsPacket.Packet[] {
  const out: dnsPacket.Packet[] = [];
  let i = 0;
  while (i + 2 <= buf.length && i + 2 + buf.readUInt16BE(i) <= buf.length) {
    out.push(dnsPacket.decode(buf.subarray(i + 2, i + 2 + buf.readUInt16BE(i))));
    i += 2 + buf.readUInt16BE(i);
  }
  return out;
}

type TcpOutcome = { answered: true; address: string | undefined; ms: number } | { answered: false; how: string; ms: number };

/** One query on a new TCP connection from `localAddress`: answered, or how it was refused. */
async function tcpQueryFrom(port: number, localAddress: string, timeoutMs = 3000): Promise<TcpOutcome> {
  const t0 = Date.now();
  let w: Watched;
  try {
    w = await connectFrom(port, localAddress);
  } catch (e) {
    return { answered: false, how: `connect: ${(e as Error).message}`, ms: Date.now() - t0 };
  }
  const id = 1 + Math.floor(Math.random() * 60000);
  const msg = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name: 'app.example.com', class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '81.2.69.0' }] } as never],
  });
  if (!w.socket.destroyed) w.socket.write(framed(msg), () => undefined);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && replies(w.received).length === 0 && w.closedAt === null) await sleep(5);
  const got = replies(w.received);
  w.socket.destroy();
  if (got.length > 0 && got[0].id === id) return { answered: true, address: addresses(got[0])[0], ms: Date.now() - t0 };
  return { answered: false, how: w.closedAt !== null ? `closed by the server (${w.closedHow}) without a reply` : 'no reply, still open', ms: Date.now() - t0 };
}

async function udpAnswered(port: number): Promise<boolean> {
  try {
    return addresses(await query(port, 'app.example.com', 'A', { subnet: LONDON, timeoutMs: 2000 }))[0] === EU_WEST_1;
  } catch {
    return false;
  }
}

interface SlowResult {
  closedAfterMs: number | null;
  closedHow: string | null;
  receivedOctets: number;
  sentOctets: number;
  /** Meanwhile, from the same source address. */
  otherTcp: TcpOutcome | null;
  otherUdp: boolean;
}

/** A valid 35-octet framed query sent one octet a second, for at most 20 s. */
async function trickle(port: number, from: string): Promise<SlowResult> {
  const w = await connectFrom(port, from);
  const bytes = framed(encodeQuery(0x7171));
  let sent = 0;
  let others: Promise<[TcpOutcome, boolean]> | null = null;
  for (let s = 0; s < 20 && w.closedAt === null && sent < bytes.length; s++) {
    if (!w.socket.destroyed && w.socket.writable) w.socket.write(bytes.subarray(sent, sent + 1), () => undefined);
    sent++;
    if (s === 5) others = Promise.all([tcpQueryFrom(port, from), udpAnswered(port)]);
    await sleep(1000);
  }
  w.socket.destroy();
  const [otherTcp, otherUdp] = others ? await others : [null, false];
  return { closedAfterMs: w.closedAt === null ? null : w.closedAt - w.openedAt, closedHow: w.closedHow, receivedOctets: w.received.length, sentOctets: sent, otherTcp, otherUdp };
}

/** A length prefix of 65,535, then 10 octets, then silence, for at most 20 s. */
async function stall(port: number, from: string): Promise<SlowResult> {
  const w = await connectFrom(port, from);
  w.socket.write(Buffer.concat([Buffer.from([0xff, 0xff]), encodeQuery(0x5151).subarray(0, 10)]));
  await sleep(3000);
  const [otherTcp, otherUdp] = await Promise.all([tcpQueryFrom(port, from), udpAnswered(port)]);
  await within(w.closed, 17_000);
  w.socket.destroy();
  return { closedAfterMs: w.closedAt === null ? null : w.closedAt - w.openedAt, closedHow: w.closedHow, receivedOctets: w.received.length, sentOctets: 12, otherTcp, otherUdp };
}

interface IdleResult {
  opened: number;
  /** Closed by the server within 1 s of connecting, without a reply (refused). */
  refusedAtOnce: number;
  held: number;
  /** Meanwhile (sampled every second until the held ones are closed). */
  udpAsked: number;
  udpAnswered: number;
  sameAddressTcp: TcpOutcome[];
  otherAddressTcp: TcpOutcome[];
  /** How long after connecting the server closed each held connection. */
  heldClosedAfterMs: number[];
  heldReceivedOctets: number;
  sameAddressTcpAfter: TcpOutcome | null;
}

/** 1,000 connections from one address that never send anything. */
async function idleThousand(port: number, from: string, other: string): Promise<IdleResult> {
  const all: Watched[] = [];
  for (let batch = 0; batch < 10; batch++) {
    all.push(...(await Promise.all(Array.from({ length: 100 }, () => connectFrom(port, from, true)))));
  }
  await sleep(1000);
  const refused = all.filter((w) => w.closedAt !== null && w.closedAt - w.openedAt < 1000);
  const held = all.filter((w) => w.closedAt === null);
  const result: IdleResult = {
    opened: all.length,
    refusedAtOnce: refused.length,
    held: held.length,
    udpAsked: 0,
    udpAnswered: 0,
    sameAddressTcp: [],
    otherAddressTcp: [],
    heldClosedAfterMs: [],
    heldReceivedOctets: 0,
    sameAddressTcpAfter: null,
  };
  const until = Date.now() + IDLE_MS + 8000;
  while (Date.now() < until && held.some((w) => w.closedAt === null)) {
    const stillHeld = held.filter((w) => w.closedAt === null).length;
    const [udp, same, otherTcp] = await Promise.all([
      udpAnswered(port),
      stillHeld === held.length ? tcpQueryFrom(port, from) : Promise.resolve(null),
      tcpQueryFrom(port, other),
    ]);
    result.udpAsked++;
    if (udp) result.udpAnswered++;
    if (same) result.sameAddressTcp.push(same);
    result.otherAddressTcp.push(otherTcp);
    await sleep(1000);
  }
  result.heldClosedAfterMs = held.map((w) => (w.closedAt === null ? -1 : w.closedAt - w.openedAt));
  result.heldReceivedOctets = held.reduce((n, w) => n + w.received.length, 0);
  for (const w of all) w.socket.destroy();
  await sleep(100);
  result.sameAddressTcpAfter = await tcpQueryFrom(port, from);
  return result;
}

describe('DNS over TCP under abuse (idle timeout 10 s, 1,000 connections, 100 per address)', () => {
  let db: TestDatabase;
  let app: TestApp;
  let slowTrickle: Promise<SlowResult>;
  let slowStall: Promise<SlowResult>;
  let idle: Promise<IdleResult>;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
    // Never rejects unobserved: each test awaits its own.
    const settle = <T>(p: Promise<T>) => p.then((v) => v, (e: Error) => ({ error: e.message }) as unknown as T);
    slowTrickle = settle(trickle(app.dnsPort, '127.0.0.2'));
    slowStall = settle(stall(app.dnsPort, '127.0.0.3'));
    idle = settle(idleThousand(app.dnsPort, '127.0.0.1', '127.0.0.5'));
  });

  afterAll(async () => {
    await Promise.allSettled([slowTrickle, slowStall, idle]);
    await app?.stop();
    await db?.drop();
  });

  it('a zero length prefix closes the connection after the replies to the frames before it; nothing after it is answered', async () => {
    const w = await connectFrom(app.dnsPort, '127.0.0.4');
    w.socket.write(Buffer.concat([framed(encodeQuery(1)), framed(encodeQuery(2)), Buffer.from([0, 0]), framed(encodeQuery(3))]));
    await within(w.closed, 3000);
    expect(w.closedAt).not.toBeNull();
    expect(w.closedAt! - w.openedAt).toBeLessThan(1000);
    const got = replies(w.received);
    expect(got.map((p) => p.id)).toEqual([1, 2]);
    expect(got.every((p) => (p as unknown as { rcode: string }).rcode === 'NOERROR')).toBe(true);

    const first = await connectFrom(app.dnsPort, '127.0.0.4');
    first.socket.write(Buffer.from([0, 0]));
    await within(first.closed, 3000);
    expect([first.closedAt !== null, first.received.length]).toEqual([true, 0]);
  });

  it('a one-octet-a-second trickle is closed once the frame is older than the idle timeout, without a reply; the same client is served meanwhile', async () => {
    const r = await slowTrickle;
    report(`trickle: closed by the server (${r.closedHow}) ${r.closedAfterMs} ms after connecting, ${r.sentOctets} of 35 octets sent, ${r.receivedOctets} octets received; meanwhile TCP ${JSON.stringify(r.otherTcp)}, UDP answered ${r.otherUdp}`);
    expect(r).toMatchObject({ receivedOctets: 0, otherUdp: true, otherTcp: { answered: true, address: EU_WEST_1 } });
    // The frame starts when its length is known (second octet, t = 1 s); the next octet after
    // t = 11 s finds it older than 10 s: closed at about 12 s, never at 35 s (the whole frame).
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeGreaterThanOrEqual(IDLE_MS);
    expect(r.closedAfterMs!).toBeLessThan(IDLE_MS + 4000);
    expect(r.sentOctets).toBeLessThan(35);
  });

  it('a 65,535 length prefix with 10 octets then nothing is closed by the idle timeout without a reply; the same client is served meanwhile', async () => {
    const r = await slowStall;
    report(`65,535 prefix + 10 octets: closed by the server (${r.closedHow}) ${r.closedAfterMs} ms after connecting, ${r.receivedOctets} octets received; meanwhile TCP ${JSON.stringify(r.otherTcp)}, UDP answered ${r.otherUdp}`);
    expect(r).toMatchObject({ receivedOctets: 0, otherUdp: true, otherTcp: { answered: true, address: EU_WEST_1 } });
    expect(r.closedAfterMs).not.toBeNull();
    expect(r.closedAfterMs!).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(r.closedAfterMs!).toBeLessThan(IDLE_MS + 3000);
  });

  it('1,000 idle connections from one address: 100 are held, 900 refused at once; UDP and other addresses are answered throughout, the same address is refused until the idle timeout frees it', async () => {
    const r = await idle;
    report(
      `1,000 idle from 127.0.0.1: ${r.held} held, ${r.refusedAtOnce} refused at once; UDP ${r.udpAnswered}/${r.udpAsked} answered; ` +
        `TCP from 127.0.0.5 ${r.otherAddressTcp.filter((o) => o.answered).length}/${r.otherAddressTcp.length} answered; ` +
        `new TCP from 127.0.0.1 while capped: ${r.sameAddressTcp.filter((o) => !o.answered).length}/${r.sameAddressTcp.length} refused ` +
        `(${[...new Set(r.sameAddressTcp.map((o) => (o.answered ? 'answered' : o.how)))].join(', ')}; at most ${Math.max(...r.sameAddressTcp.map((o) => o.ms))} ms); ` +
        `held closed ${Math.min(...r.heldClosedAfterMs)}-${Math.max(...r.heldClosedAfterMs)} ms after connecting; afterwards TCP from 127.0.0.1 ${r.sameAddressTcpAfter?.answered ? 'answered' : 'not answered'}`,
    );
    expect({ opened: r.opened, held: r.held, refusedAtOnce: r.refusedAtOnce }).toEqual({ opened: 1000, held: 100, refusedAtOnce: 900 });
    // Other clients: UDP from the same address and TCP from another address, every second.
    expect(r.udpAsked).toBeGreaterThanOrEqual(8);
    expect(r.udpAnswered).toBe(r.udpAsked);
    expect(r.otherAddressTcp.length).toBeGreaterThanOrEqual(8);
    expect(r.otherAddressTcp.filter((o) => !o.answered || o.address !== EU_WEST_1)).toEqual([]);
    // A new TCP connection from the capped address is refused in a defined way: closed by the
    // server at once, no reply (RFC 7766 §6.2.2 allows refusing; it does not hang).
    expect(r.sameAddressTcp.length).toBeGreaterThan(0);
    for (const o of r.sameAddressTcp) {
      expect(o).toMatchObject({ answered: false, how: expect.stringMatching(/^closed by the server/) });
      expect(o.ms).toBeLessThan(1000);
    }
    // The idle timeout closes the held ones (about 10 s after they went idle), sending nothing.
    expect(r.heldReceivedOctets).toBe(0);
    expect(Math.min(...r.heldClosedAfterMs)).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(Math.max(...r.heldClosedAfterMs)).toBeLessThan(IDLE_MS + 4000);
    expect(r.sameAddressTcpAfter).toMatchObject({ answered: true, address: EU_WEST_1 });
  });

  it('at 1,000 connections in all, a new client is admitted by closing the least recently active connection', async () => {
    await Promise.allSettled([slowTrickle, slowStall, idle]); // nothing else is open now
    const sources = Array.from({ length: 10 }, (_, i) => `127.0.0.${10 + i}`);
    const all: Watched[][] = [];
    try {
      for (const source of sources) all.push(await Promise.all(Array.from({ length: 100 }, () => connectFrom(app.dnsPort, source))));
      await sleep(300);
      expect(all.flat().filter((w) => w.closedAt !== null)).toHaveLength(0);
      const outcome = await tcpQueryFrom(app.dnsPort, '127.0.0.20');
      expect(outcome).toMatchObject({ answered: true, address: EU_WEST_1 });
      await sleep(300);
      const evicted = all.map((batch) => batch.filter((w) => w.closedAt !== null).length);
      report(`1,000 from 127.0.0.10-19 + 1 from 127.0.0.20: new client ${outcome.answered ? 'answered' : 'refused'} in ${outcome.ms} ms, closed per batch ${JSON.stringify(evicted)}`);
      // Exactly one, from the first (least recently active) batch.
      expect(evicted).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(await udpAnswered(app.dnsPort)).toBe(true);
    } finally {
      for (const w of all.flat()) w.socket.destroy();
    }
  });
});
