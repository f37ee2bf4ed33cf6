/**
 * DNS over UDP on node:dgram, and DnsServer: UDP and TCP bound on the same port, answering through
 * one DnsResponder.
 *
 * UDP: one socket on `host` (udp6 when host is an IPv6 address, which on Linux also receives
 * IPv4 as ::ffff:a.b.c.d; udp4 otherwise), read by UdpListener (node:dgram, one event per
 * datagram) or, with `udpIo: 'batch'`, by BatchUdpListener (udp-batch.ts: the native addon,
 * up to 64 datagrams per system call and per call into JavaScript). A datagram the responder will not answer is dropped.
 * Send and socket errors are counted and logged, never thrown.
 *
 * DnsServer.listen() with port 0 binds UDP on a free port, then TCP on that same port, retrying
 * with a new port a few times if TCP's is taken. close() stops both and closes TCP connections.
 * counters() returns a plain object for metrics.
 *
 * Response rate limiting (rate-limiter.ts) judges each UDP reply after the responder made it: sent,
 * sent truncated (slip) or dropped. TCP replies are never limited (TCP proves the address).
 */
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import type { DnsResponder, PeerAddress, ResponderStats } from './responder';
import { TcpListener, type TcpCounters } from './tcp-server';
import { ResponseRateLimiter, slipReply, type RateLimitOptions } from './rate-limiter';
import { BatchUdpListener, chooseUdpIo } from './udp-batch';

/** Satisfied by Nest's Logger and by pino-style wrappers that take a string. */
export interface DnsLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface DnsServerOptions {
  readonly host: string;
  /** 0 picks a free port (the same for UDP and TCP). */
  readonly port: number;
  /** TCP idle timeout, default 10 s. */
  readonly idleTimeoutMs?: number;
  /** Concurrent TCP connections, default 1,000 (the least recently active is closed to admit a new one). */
  readonly maxTcpConnections?: number;
  /** Concurrent TCP connections from one address, default 100 (further ones are refused). */
  readonly maxTcpConnectionsPerClient?: number;
  readonly logger?: DnsLogger;
  /** false: TCP only (UDP is answered by DNS worker processes sharing the port). Default true. */
  readonly udp?: boolean;
  /** UDP response rate limiting; absent or responsesPerSecond 0 = off. TCP is never limited. */
  readonly rateLimit?: RateLimitOptions;
  /** 'batch': the native recvmmsg/sendmmsg listener (udp-batch.ts); 'dgram': node:dgram. Default: batch when the addon loads. */
  readonly udpIo?: 'batch' | 'dgram';
}

export interface UdpCounters {
  received: number;
  replied: number;
  sendErrors: number;
  socketErrors: number;
}

export interface DnsServerCounters extends ResponderStats {
  readonly udp: Readonly<UdpCounters>;
  /** UDP responses over the rate limit: sent truncated (slipped) or not sent (dropped). */
  readonly rateLimited: { readonly slipped: number; readonly dropped: number };
  readonly tcp: Readonly<TcpCounters> & { readonly open: number };
}

/** What DnsServer and the DNS workers need of a UDP listener: UdpListener (node:dgram) or BatchUdpListener. */
export interface UdpSocketListener {
  readonly counters: UdpCounters;
  /** Resolves with the bound port. `exclusive: false`: the port is shared with the other DNS worker processes. */
  bind(host: string, port: number, exclusive?: boolean): Promise<number>;
  close(): Promise<void>;
  /** Answers waiting queries now (the batch listener; see BatchUdpListener.pump). */
  pump?(): number;
}

/** The listener for `io` (DNS_UDP_IO as chosen by chooseUdpIo in udp-batch.ts). */
export function createUdpListener(
  io: 'batch' | 'dgram',
  responder: DnsResponder,
  log: (level: 'warn' | 'error', message: string) => void,
  limiter: ResponseRateLimiter | null,
): UdpSocketListener {
  return io === 'batch' ? new BatchUdpListener(responder, log, limiter) : new UdpListener(responder, log, limiter);
}

export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_TCP_CONNECTIONS = 1_000;
export const DEFAULT_MAX_TCP_CONNECTIONS_PER_CLIENT = 100;
const PORT_ATTEMPTS = 5;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram passes the destination of every send() (and the bind address) through `lookup`: by
 * default dns.lookup, which answers an IP literal on process.nextTick, so each reply would wait
 * for a tick and cost a closure, a queue entry and a callback. Replies always go to the address
 * literal the socket reported, so a literal is handed straight back and the reply is sent inside
 * the 'message' handler. Anything else goes to dns.lookup as before.
 */
export function literalLookup(host: string, options: unknown, callback: LookupCallback): void {
  const family = net.isIP(host);
  if (family !== 0) {
    callback(null, host, family);
    return;
  }
  dns.lookup(host, options as dns.LookupOneOptions, callback);
}

export class UdpListener implements UdpSocketListener {
  private socket: dgram.Socket | null = null;
  /** Reused for every datagram: the responder reads it synchronously. */
  private readonly peer: PeerAddress = { address: '', family: 4 };
  readonly counters: UdpCounters = { received: 0, replied: 0, sendErrors: 0, socketErrors: 0 };

  constructor(
    private readonly responder: DnsResponder,
    private readonly log: (level: 'warn' | 'error', message: string) => void,
    private readonly limiter: ResponseRateLimiter | null = null,
  ) {}

  /** `exclusive: false` in a cluster worker shares one socket among the workers (dns/workers). */
  bind(host: string, port: number, exclusive = true): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup });
      const onBindError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onBindError);
      socket.on('message', this.onMessage);
      socket.bind({ address: host, port, exclusive }, () => {
        socket.off('error', onBindError);
        socket.on('error', this.onError);
        this.socket = socket;
        resolve(socket.address().port);
      });
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket === null) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    this.counters.received++;
    const socket = this.socket;
    if (socket === null) return;
    const peer = this.peer;
    peer.address = rinfo.address;
    peer.family = (rinfo.family as unknown) === 'IPv6' || (rinfo.family as unknown) === 6 ? 6 : 4;
    let reply = this.responder.respond(msg, peer, 'udp');
    if (reply === null) return;
    const limiter = this.limiter;
    if (limiter !== null) {
      const verdict = limiter.check(peer.address, peer.family, reply);
      if (verdict === 'drop') return;
      if (verdict === 'slip') reply = slipReply(reply);
    }
    try {
      // No callback: a failed send is emitted as 'error' (counted in onError).
      socket.send(reply, rinfo.port, rinfo.address);
      this.counters.replied++;
    } catch (err) {
      this.counters.sendErrors++;
      this.log('warn', `dns udp send failed: ${(err as Error).message}`);
    }
  };

  private readonly onError = (err: Error): void => {
    this.counters.socketErrors++;
    this.log('warn', `dns udp socket error: ${err.message}`);
  };
}

export class DnsServer {
  private readonly udp: UdpSocketListener;
  private readonly tcp: TcpListener;
  private readonly limiter: ResponseRateLimiter | null;
  private boundPort: number | null = null;

  constructor(
    private readonly responder: DnsResponder,
    private readonly opts: DnsServerOptions,
  ) {
    const logger = opts.logger;
    const log = (level: 'warn' | 'error', message: string): void => {
      try {
        if (logger) logger[level](message);
      } catch {
        // logging must never take the server down
      }
    };
    this.limiter = opts.rateLimit && opts.rateLimit.responsesPerSecond > 0 ? new ResponseRateLimiter(opts.rateLimit) : null;
    const limiter = this.limiter;
    if (limiter !== null) responder.negativeGate = (address, family) => limiter.errorLimited(address, family);
    this.udp = createUdpListener(opts.udpIo ?? chooseUdpIo('auto').io, responder, log, this.limiter);
    this.tcp = new TcpListener(
      responder,
      {
        idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS,
        maxConnections: opts.maxTcpConnections ?? DEFAULT_MAX_TCP_CONNECTIONS,
        maxConnectionsPerClient: opts.maxTcpConnectionsPerClient ?? DEFAULT_MAX_TCP_CONNECTIONS_PER_CLIENT,
      },
      log,
    );
  }

  /** The bound port, or null before listen(). */
  get port(): number | null {
    return this.boundPort;
  }

  /** Binds UDP and TCP on the same port; rejects (with nothing left bound) if that fails. */
  async listen(): Promise<{ port: number }> {
    if (this.boundPort !== null) return { port: this.boundPort };
    const { host, port } = this.opts;
    const attempts = port === 0 ? PORT_ATTEMPTS : 1;
    let lastError: unknown = null;
    if (this.opts.udp === false) {
      const tcpPort = await this.tcp.listen(host, port);
      this.boundPort = tcpPort;
      return { port: tcpPort };
    }
    for (let attempt = 0; attempt < attempts; attempt++) {
      const udpPort = await this.udp.bind(host, port);
      try {
        await this.tcp.listen(host, udpPort);
        this.boundPort = udpPort;
        return { port: udpPort };
      } catch (err) {
        lastError = err;
        await this.udp.close();
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(`dns: cannot bind TCP on ${host}:${port}`);
  }

  async close(): Promise<void> {
    this.boundPort = null;
    await Promise.all([this.udp.close(), this.tcp.close()]);
  }

  /** Answers the UDP queries waiting now, where the listener can (the batch path); 0 otherwise. */
  pump(): number {
    return this.udp.pump?.() ?? 0;
  }

  counters(): DnsServerCounters {
    return {
      ...this.responder.stats(),
      udp: { ...this.udp.counters },
      rateLimited: { slipped: this.limiter?.counters.slipped ?? 0, dropped: this.limiter?.counters.dropped ?? 0 },
      tcp: { ...this.tcp.counters, open: this.tcp.openConnections },
    };
  }
}
