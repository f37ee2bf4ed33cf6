/**
 * DNS over UDP in batches, on the native addon in native/ (Linux): the same job as UdpListener
 * in udp-server.ts (responder, rate limiting, counters), with the per-datagram machinery of
 * node:dgram taken out of the loop.
 *
 * The addon owns the socket (udp4, or udp6 dual-stack reporting IPv4 peers as ::ffff:a.b.c.d as
 * dgram does) and watches it on Node's event loop. When it is readable the addon reads up to
 * BATCH datagrams with one recvmmsg into `in`, writes each source (port, family, raw address;
 * IPv6 also as text) into `info` and `text`, and calls onBatch once. onBatch answers every datagram through the
 * responder and the rate limiter and copies each reply (or none) into `out`; the addon then sends
 * them all with one sendmmsg, the replies written straight into `out` by
 * DnsResponder.respondInto (no Buffer per reply). DNS workers (dns/workers) read sockets the main
 * process binds (bindSharedUdpSocket, adopt()): one for one worker, else one each in a
 * SO_REUSEPORT group that gives each datagram to a random socket (`spread`).
 *
 * loadUdpBatch() says whether the addon is there (built by `npm ci`/`npm run build`, see
 * bin/build-native.js) and why not; DNS_UDP_IO chooses (dns.service.ts).
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import * as os from 'node:os';
import { loadNativeAddon, nativeAddonPath } from '../common/native-addon';
import type { DnsResponder, PeerAddress } from './responder';
import { ResponseRateLimiter, slipReply } from './rate-limiter';
import type { UdpCounters, UdpSocketListener } from './udp-server';

export type UdpIo = 'auto' | 'batch' | 'dgram';

interface BatchAddon {
  readonly BATCH: number;
  readonly SLOT: number;
  readonly INFO_WORDS: number;
  readonly TEXT_STRIDE: number;
  readonly STAT_WORDS: number;
  open(options: {
    host?: string;
    port?: number;
    ipv6?: boolean;
    reusePort?: boolean;
    /** SO_REUSEPORT with each datagram given to a random one of this many sockets of the group (native attach_spread). */
    spread?: number;
    /** A bound socket to read instead of making one (bindSocket's, inherited by a DNS worker). */
    fd?: number;
    in: Buffer;
    info: Buffer;
    text: Buffer;
    out: Buffer;
    outLen: Buffer;
    stats: Buffer;
    onBatch: (count: number) => void;
  }): { handle: unknown; port: number };
  close(handle: unknown): void;
  /** One read-answer-send round now (from JavaScript); the datagrams answered. */
  pump(handle: unknown): number;
  bindSocket(options: { host: string; port: number; ipv6: boolean; reusePort: boolean; spread?: number }): { fd: number; port: number };
  closeFd(fd: number): void;
}

/** Indices into the addon's stats array (native/udp_batch.c, STAT_*). */
const STAT_RECV_ERRORS = 0;
const STAT_SEND_ERRORS = 1;
const STAT_LAST_RECV_ERRNO = 2;
const STAT_LAST_SEND_ERRNO = 3;
const STAT_CALLBACK_ERRORS = 5;

export const UDP_BATCH_ADDON = nativeAddonPath('udp_batch');

let loaded: { addon: BatchAddon } | { reason: string } | null = null;

/** The addon, or why it cannot be used here (loaded once per process). */
export function loadUdpBatch(): { addon: BatchAddon } | { reason: string } {
  if (loaded !== null) return loaded;
  if (process.platform !== 'linux') {
    loaded = { reason: `batched UDP needs Linux (recvmmsg/sendmmsg), this is ${process.platform}` };
    return loaded;
  }
  loaded = loadNativeAddon<BatchAddon>(UDP_BATCH_ADDON);
  return loaded;
}

/**
 * Which UDP implementation DNS_UDP_IO selects: 'batch' when the addon loads (auto) or is required
 * (batch: throws with the reason when it does not load), else 'dgram' with the reason for a log line.
 */
export function chooseUdpIo(setting: UdpIo): { io: 'batch' | 'dgram'; reason: string | null } {
  if (setting === 'dgram') return { io: 'dgram', reason: null };
  const found = loadUdpBatch();
  if ('addon' in found) return { io: 'batch', reason: null };
  if (setting === 'batch') throw new Error(`DNS_UDP_IO=batch: ${found.reason}. Build it, or set DNS_UDP_IO=auto to fall back to node:dgram`);
  return { io: 'dgram', reason: found.reason };
}

/** As dgram: a name is looked up (in the socket's family: udp6 for an IPv6 literal), a literal is used as it is. */
async function literal(host: string): Promise<string> {
  return net.isIP(host) !== 0 ? host : (await dns.promises.lookup(host, { family: 4 })).address;
}

/**
 * A UDP socket bound on host:port that nobody in this process reads: the main process makes it
 * for its DNS workers (DNS_WORKERS with the batch path), which inherit it and read it with
 * BatchUdpListener.adopt(). With `spread` = N > 1 it is one of N sockets on the port (SO_REUSEPORT)
 * and the group gives each datagram to a random one of them (native attach_spread): every worker
 * takes its share of any client's queries, whatever the client's address and port (the kernel's
 * own choice, a hash of those, would give one busy client to one worker), and each worker is
 * woken only for datagrams on its own socket. (One socket read by all, as node:cluster shares
 * dgram's, woke every idle worker for each datagram: 8-9 µs of server CPU a query under the
 * spread load against 6.7-7.6 this way, bench/RESULTS.md.) Without `spread`: an ordinary socket,
 * the port its own.
 */
export async function bindSharedUdpSocket(host: string, port: number, spread = 0): Promise<{ fd: number; port: number; close(): void }> {
  const found = loadUdpBatch();
  if (!('addon' in found)) throw new Error(found.reason);
  const addon = found.addon;
  const bound = addon.bindSocket({ host: await literal(host), port, ipv6: net.isIPv6(host), reusePort: spread > 1, spread });
  let open = true;
  return {
    fd: bound.fd,
    port: bound.port,
    close: () => {
      if (open) addon.closeFd(bound.fd);
      open = false;
    },
  };
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));
const errnoName = (n: number): string => ERRNO_NAMES.get(n) ?? `errno ${n}`;

/** Address strings by the IPv4 address as one 32-bit word (native byte order of the raw octets). */
const ADDRESS_CACHE_LIMIT = 65_536;
/** Octets 8-11 of an IPv4-mapped IPv6 address (00 00 ff ff) read as one word in this machine's byte order. */
const MAPPED_WORD = new Int32Array(new Uint8Array([0, 0, 0xff, 0xff]).buffer)[0];

export class BatchUdpListener implements UdpSocketListener {
  private readonly addon: BatchAddon;
  private handle: unknown = null;
  private readonly batch: number;
  private readonly slot: number;
  private readonly words: number;
  private readonly stride: number;
  private readonly inBuf: Buffer;
  private readonly infoBuf: Buffer;
  private readonly info: Int32Array;
  private readonly text: Buffer;
  private readonly out: Buffer;
  private readonly outLenBuf: Buffer;
  private readonly outLen: Int32Array;
  private readonly statsBuf: Buffer;
  private readonly stats: Float64Array;
  /** Reused for every datagram: the responder reads it synchronously. */
  private readonly peer: PeerAddress = { address: '', family: 4 };
  private readonly v4Names = new Map<number, string>();
  private readonly mappedNames = new Map<number, string>();
  private readonly lastV6 = new Int32Array(4);
  private lastV6Name = '';
  private readonly own: UdpCounters = { received: 0, replied: 0, sendErrors: 0, socketErrors: 0 };
  private logged = { recv: 0, send: 0, callback: 0 };

  constructor(
    private readonly responder: DnsResponder,
    private readonly log: (level: 'warn' | 'error', message: string) => void,
    private readonly limiter: ResponseRateLimiter | null = null,
  ) {
    const found = loadUdpBatch();
    if (!('addon' in found)) throw new Error(found.reason);
    const a = found.addon;
    this.addon = a;
    this.batch = a.BATCH;
    this.slot = a.SLOT;
    this.words = a.INFO_WORDS;
    this.stride = a.TEXT_STRIDE;
    // Buffer.alloc gives each its own aligned ArrayBuffer (never the shared pool): the typed views need it.
    this.inBuf = Buffer.alloc(a.BATCH * a.SLOT);
    this.infoBuf = Buffer.alloc(a.BATCH * a.INFO_WORDS * 4);
    this.info = new Int32Array(this.infoBuf.buffer, this.infoBuf.byteOffset, a.BATCH * a.INFO_WORDS);
    this.text = Buffer.alloc(a.BATCH * a.TEXT_STRIDE);
    this.out = Buffer.alloc(a.BATCH * a.SLOT);
    this.outLenBuf = Buffer.alloc(a.BATCH * 4);
    this.outLen = new Int32Array(this.outLenBuf.buffer, this.outLenBuf.byteOffset, a.BATCH);
    this.statsBuf = Buffer.alloc(a.STAT_WORDS * 8);
    this.stats = new Float64Array(this.statsBuf.buffer, this.statsBuf.byteOffset, a.STAT_WORDS);
  }

  /** As UdpListener's: sendErrors and socketErrors include what the addon counted. */
  get counters(): UdpCounters {
    const s = this.stats;
    return {
      received: this.own.received,
      replied: this.own.replied,
      sendErrors: this.own.sendErrors + s[STAT_SEND_ERRORS],
      socketErrors: this.own.socketErrors + s[STAT_RECV_ERRORS] + s[STAT_CALLBACK_ERRORS],
    };
  }

  /**
   * `exclusive: false` sets SO_REUSEPORT, so several sockets (processes) can bind the port; the
   * kernel then gives each client address and port to one of them. `spread` = N > 1 joins the DNS
   * workers' group instead (see bindSharedUdpSocket): a worker replacing one that died.
   */
  async bind(host: string, port: number, exclusive = true, spread = 0): Promise<number> {
    const address = await literal(host);
    return this.open({ host: address, port, ipv6: net.isIPv6(host), reusePort: !exclusive || spread > 1, spread });
  }

  /** Reads a bound UDP socket made elsewhere: the main process's bindSharedUdpSocket(), inherited by a DNS worker. */
  adopt(fd: number): number {
    return this.open({ fd });
  }

  private open(socket: { host: string; port: number; ipv6: boolean; reusePort: boolean; spread: number } | { fd: number }): number {
    if (this.handle !== null) throw new Error('dns udp: already bound');
    const opened = this.addon.open({
      ...socket,
      in: this.inBuf,
      info: this.infoBuf,
      text: this.text,
      out: this.out,
      outLen: this.outLenBuf,
      stats: this.statsBuf,
      onBatch: this.onBatch,
    });
    this.handle = opened.handle;
    return opened.port;
  }

  /**
   * Answers the queries waiting on the socket now, from the caller's stack: the HTTP server calls
   * it between requests, so a query waits for a few requests when the event loop is busy with
   * HTTP, not for the whole loop turn. A syscall returning nothing when no query waits.
   */
  pump(): number {
    return this.handle === null ? 0 : this.addon.pump(this.handle);
  }

  close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) this.addon.close(handle);
    return Promise.resolve();
  }

  /** The source address of datagram i as node:dgram would report it. */
  private addressOf(i: number, base: number, family: number): string {
    const info = this.info;
    if (family === 4) {
      const key = info[base + 4];
      let name = this.v4Names.get(key);
      if (name === undefined) {
        // The addon leaves IPv4 text to us (no inet_ntop per datagram): the raw octets, in order.
        const raw = this.infoBuf;
        const at = (base + 4) * 4;
        name = `${raw[at]}.${raw[at + 1]}.${raw[at + 2]}.${raw[at + 3]}`;
        if (this.v4Names.size >= ADDRESS_CACHE_LIMIT) this.v4Names.clear();
        this.v4Names.set(key, name);
      }
      return name;
    }
    const w0 = info[base + 4];
    const w1 = info[base + 5];
    const w2 = info[base + 6];
    const w3 = info[base + 7];
    // ::ffff:a.b.c.d (an IPv4 client of a dual-stack socket): octets 10-11 are ff ff.
    if (w0 === 0 && w1 === 0 && w2 === MAPPED_WORD) {
      let name = this.mappedNames.get(w3);
      if (name === undefined) {
        name = this.textOf(i, base);
        if (this.mappedNames.size >= ADDRESS_CACHE_LIMIT) this.mappedNames.clear();
        this.mappedNames.set(w3, name);
      }
      return name;
    }
    const last = this.lastV6;
    if (this.lastV6Name !== '' && last[0] === w0 && last[1] === w1 && last[2] === w2 && last[3] === w3) return this.lastV6Name;
    const name = this.textOf(i, base);
    last[0] = w0;
    last[1] = w1;
    last[2] = w2;
    last[3] = w3;
    this.lastV6Name = name;
    return name;
  }

  private textOf(i: number, base: number): string {
    const start = i * this.stride;
    return this.text.toString('latin1', start, start + this.info[base + 3]);
  }

  private readonly onBatch = (count: number): void => {
    const { info, words, slot, inBuf, out, outLen, peer, responder, limiter, own } = this;
    for (let i = 0; i < count; i++) {
      own.received++;
      const base = i * words;
      const family = info[base + 2];
      try {
        peer.address = this.addressOf(i, base, family);
        peer.family = family === 6 ? 6 : 4;
        const start = i * slot;
        // Straight into the output slot: no Buffer per reply, no copy.
        let length = responder.respondInto(inBuf.subarray(start, start + info[base]), peer, 'udp', out, start, slot);
        if (length < 0) continue;
        if (length > slot) {
          own.sendErrors++;
          this.log('warn', `dns udp send failed: a reply of ${length} octets does not fit a datagram`);
          continue;
        }
        if (limiter !== null) {
          const reply = out.subarray(start, start + length);
          const verdict = limiter.check(peer.address, peer.family, reply);
          if (verdict === 'drop') continue;
          if (verdict === 'slip') {
            const slipped = slipReply(reply);
            out.set(slipped, start);
            length = slipped.length;
          }
        }
        outLen[i] = length;
        own.replied++;
      } catch (err) {
        // The responder answers SERVFAIL on its own errors; this is a guard so one datagram cannot stop the batch.
        own.socketErrors++;
        this.log('error', `dns udp: datagram from ${peer.address} not answered: ${(err as Error)?.message ?? String(err)}`);
      }
    }
    this.logErrors();
  };

  /** One log line per batch for errors the addon counted since the last one (as dgram logs its 'error' events). */
  private logErrors(): void {
    const s = this.stats;
    const logged = this.logged;
    if (s[STAT_SEND_ERRORS] !== logged.send) {
      this.log('warn', `dns udp send failed: ${errnoName(s[STAT_LAST_SEND_ERRNO])} (${s[STAT_SEND_ERRORS] - logged.send} datagrams)`);
      logged.send = s[STAT_SEND_ERRORS];
    }
    if (s[STAT_RECV_ERRORS] !== logged.recv) {
      this.log('warn', `dns udp socket error: ${errnoName(s[STAT_LAST_RECV_ERRNO])} (${s[STAT_RECV_ERRORS] - logged.recv} times)`);
      logged.recv = s[STAT_RECV_ERRORS];
    }
    if (s[STAT_CALLBACK_ERRORS] !== logged.callback) {
      this.log('error', `dns udp: a batch callback threw (${s[STAT_CALLBACK_ERRORS] - logged.callback} times)`);
      logged.callback = s[STAT_CALLBACK_ERRORS];
    }
  }
}
