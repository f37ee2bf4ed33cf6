/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766) on node:net. Each message has a 2-octet length prefix;
 * queries pipelined on one connection are answered in the order received (the responder is
 * synchronous).
 *
 * Resource limits (RFC 7766 §6.2.3, §8; RFC 9210 §4):
 * - a frame is buffered in one allocation of its declared length (at most 65,535 octets), so a
 *   one-octet trickle costs no re-copying and memory per connection is bounded;
 * - a zero length prefix, a message the responder will not answer (shorter than a header, QR=1),
 *   a frame that takes longer than the idle timeout to arrive, or idleness beyond the idle
 *   timeout closes the connection;
 * - at most `maxConnections` connections: when full, the least recently active one is closed to
 *   admit the new one; at most `maxConnectionsPerClient` per source address (further ones are
 *   refused);
 * - a client that does not read its replies is paused once 256 KiB of replies are queued.
 * Socket errors are counted and never thrown.
 */
import * as net from 'node:net';
import type { DnsResponder, PeerAddress } from './responder';

export interface TcpListenerOptions {
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerClient: number;
}

export interface TcpCounters {
  accepted: number;
  refused: number;
  evicted: number;
  idleClosed: number;
  badFrames: number;
  errors: number;
}

const MAX_QUEUED_REPLY_OCTETS = 256 * 1024;

class Connection {
  readonly peer: PeerAddress;
  /** Frame being filled, once its length is known. */
  frame: Buffer | null = null;
  filled = 0;
  frameStartedAt = 0;
  /** First octet of a length prefix split across chunks, or -1. */
  lengthHigh = -1;
  closed = false;

  constructor(readonly socket: net.Socket) {
    const address = socket.remoteAddress ?? '';
    this.peer = { address, family: socket.remoteFamily === 'IPv6' ? 6 : 4 };
  }
}

export class TcpListener {
  private server: net.Server | null = null;
  /** Insertion order = least recently active first (re-inserted on every read). */
  private readonly connections = new Map<net.Socket, Connection>();
  private readonly perClient = new Map<string, number>();
  readonly counters: TcpCounters = { accepted: 0, refused: 0, evicted: 0, idleClosed: 0, badFrames: 0, errors: 0 };

  constructor(
    private readonly responder: DnsResponder,
    private readonly options: TcpListenerOptions,
    private readonly log: (level: 'warn' | 'error', message: string) => void,
  ) {}

  get openConnections(): number {
    return this.connections.size;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
      const onListenError = (err: Error): void => {
        server.close();
        reject(err);
      };
      server.once('error', onListenError);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', onListenError);
        server.on('error', (err) => {
          this.counters.errors++;
          this.log('error', `dns tcp server error: ${err.message}`);
        });
        this.server = server;
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of [...this.connections.keys()]) socket.destroy();
    this.connections.clear();
    this.perClient.clear();
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const conn = new Connection(socket);
    const source = conn.peer.address;
    socket.on('error', () => {
      this.counters.errors++;
    });
    const fromClient = this.perClient.get(source) ?? 0;
    if (fromClient >= this.options.maxConnectionsPerClient) {
      this.counters.refused++;
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.options.maxConnections) {
      const oldest = this.connections.keys().next().value;
      if (oldest !== undefined) {
        this.counters.evicted++;
        oldest.destroy(); // its 'close' handler forgets it
        this.forget(oldest);
      }
    }
    this.counters.accepted++;
    this.connections.set(socket, conn);
    this.perClient.set(source, fromClient + 1);
    socket.setTimeout(this.options.idleTimeoutMs);
    socket.on('timeout', () => {
      this.counters.idleClosed++;
      socket.destroy();
    });
    socket.on('close', () => this.forget(socket));
    socket.on('drain', () => socket.resume());
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
  }

  private forget(socket: net.Socket): void {
    const conn = this.connections.get(socket);
    if (conn === undefined) return;
    conn.closed = true;
    this.connections.delete(socket);
    const source = conn.peer.address;
    const n = (this.perClient.get(source) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(source);
    else this.perClient.set(source, n);
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.closed) return;
    const socket = conn.socket;
    // Least recently active first: move this connection to the end.
    this.connections.delete(socket);
    this.connections.set(socket, conn);
    if (conn.frame !== null && Date.now() - conn.frameStartedAt > this.options.idleTimeoutMs) {
      this.counters.idleClosed++;
      socket.destroy();
      return;
    }
    socket.cork();
    try {
      this.consume(conn, chunk);
    } finally {
      socket.uncork();
    }
    if (!conn.closed && socket.writableLength > MAX_QUEUED_REPLY_OCTETS) socket.pause();
  }

  private consume(conn: Connection, chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (conn.frame === null) {
        let length: number;
        if (conn.lengthHigh >= 0) {
          length = (conn.lengthHigh << 8) | chunk[i];
          conn.lengthHigh = -1;
          i += 1;
        } else if (n - i >= 2) {
          length = (chunk[i] << 8) | chunk[i + 1];
          i += 2;
        } else {
          conn.lengthHigh = chunk[i];
          i += 1;
          continue;
        }
        if (length === 0) {
          this.badFrame(conn);
          return;
        }
        if (n - i >= length) {
          // The whole message is in this chunk: answer it in place.
          const ok = this.handle(conn, chunk.subarray(i, i + length));
          i += length;
          if (!ok) return;
          continue;
        }
        conn.frame = Buffer.allocUnsafe(length);
        conn.filled = 0;
        conn.frameStartedAt = Date.now();
      }
      const frame = conn.frame;
      const take = Math.min(frame.length - conn.filled, n - i);
      chunk.copy(frame, conn.filled, i, i + take);
      conn.filled += take;
      i += take;
      if (conn.filled === frame.length) {
        conn.frame = null;
        if (!this.handle(conn, frame)) return;
      }
    }
  }

  /** Answers one message; false when the connection was closed. */
  private handle(conn: Connection, msg: Buffer): boolean {
    const reply = this.responder.respond(msg, conn.peer, 'tcp');
    if (reply === null) {
      this.badFrame(conn);
      return false;
    }
    const framed = Buffer.allocUnsafe(reply.length + 2);
    framed[0] = reply.length >>> 8;
    framed[1] = reply.length & 0xff;
    reply.copy(framed, 2);
    conn.socket.write(framed);
    return true;
  }

  /** Replies already written are flushed, then the connection is closed. */
  private badFrame(conn: Connection): void {
    this.counters.badFrames++;
    conn.frame = null;
    conn.closed = true;
    const socket = conn.socket;
    socket.end(() => socket.destroy());
    this.forget(socket);
  }
}
