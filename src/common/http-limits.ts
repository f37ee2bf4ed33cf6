import type * as http from 'node:http';
import type * as net from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from '@nestjs/common';
import { clientAddress, isTrustedPeer } from './client-ip';
import { truncateIp } from './ip';
import { sendProblem } from './problem.filter';

/**
 * Limits of the HTTP server, applied to the node:http Server itself (so whatever handles the
 * requests — Nest, or a fast path in front of it — sits behind them):
 * - at most `maxConnections` open connections (Node's own cap: a connection over it is closed at
 *   once) and `maxConnectionsPerSource` from one peer address (TRUSTED_PROXIES peers exempt);
 * - `headersTimeoutMs` to send the request head, `requestTimeoutMs` for the whole request,
 *   checked every second; idle keep-alive connections closed after `keepAliveTimeoutMs`, and
 *   after `maxRequestsPerSocket` requests;
 * - a line in the log (at most one every 10 s, with the count) when a cap is hit;
 * - every answer Node writes itself (431 header too large, 413, 408, 400 unparseable) is an
 *   RFC 9457 problem document, as is 414 for a URL over `maxUrlBytes` (`uriLengthLimit`).
 * DNS over TCP is a separate listener with its own caps (dns/tcp-server.ts): the HTTP caps keep
 * HTTP from taking the file descriptors DNS needs.
 */
export interface HttpLimits {
  readonly maxConnections: number;
  /** 0 = no per-source cap. */
  readonly maxConnectionsPerSource: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** 0 = no limit. */
  readonly maxRequestsPerSocket: number;
  readonly maxUrlBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  maxConnections: 1024,
  maxConnectionsPerSource: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1000,
  maxUrlBytes: 8192,
});

const LOG_EVERY_MS = 10_000;
const logger = new Logger('http');

/** Counts refusals by cap and says so in the log at most once per LOG_EVERY_MS for each cap. */
class CapLog {
  private readonly pending = new Map<string, { count: number; last: string; timer: NodeJS.Timeout | null }>();

  hit(cap: string, from: string): void {
    const entry = this.pending.get(cap) ?? { count: 0, last: from, timer: null };
    entry.count += 1;
    entry.last = from;
    this.pending.set(cap, entry);
    if (entry.timer !== null) return;
    this.flush(cap, entry);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (entry.count > 0) this.flush(cap, entry);
      else this.pending.delete(cap);
    }, LOG_EVERY_MS);
    entry.timer.unref();
  }

  private flush(cap: string, entry: { count: number; last: string }): void {
    logger.warn(`HTTP ${cap} reached: ${entry.count} connection${entry.count === 1 ? '' : 's'} refused (the last from ${entry.last})`);
    entry.count = 0;
  }
}

export function applyHttpLimits(server: http.Server, limits: HttpLimits, trustedProxies: Parameters<typeof clientAddress>[2] = []): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  // How often Node looks for requests over headersTimeout/requestTimeout (default 30 s); read at listen.
  (server as http.Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 1000;
  const caps = new CapLog();
  server.on('drop', (data?: { remoteAddress?: string }) => caps.hit(`connection cap (HTTP_MAX_CONNECTIONS=${limits.maxConnections})`, truncateIp(data?.remoteAddress ?? '')));

  const perSource = new Map<string, number>();
  server.on('connection', (socket: net.Socket) => {
    if (limits.maxConnectionsPerSource === 0) return;
    const peer = socket.remoteAddress ?? '';
    if (isTrustedPeer(peer, trustedProxies)) return;
    const n = (perSource.get(peer) ?? 0) + 1;
    if (n > limits.maxConnectionsPerSource) {
      caps.hit(`per-source cap (HTTP_MAX_CONNECTIONS_PER_SOURCE=${limits.maxConnectionsPerSource})`, truncateIp(peer));
      socket.destroy();
      return;
    }
    perSource.set(peer, n);
    socket.once('close', () => {
      const left = (perSource.get(peer) ?? 1) - 1;
      if (left <= 0) perSource.delete(peer);
      else perSource.set(peer, left);
    });
  });

  server.on('clientError', (err: NodeJS.ErrnoException & { bytesParsed?: number }, socket: net.Socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET' && socket.destroyed)) {
      socket.destroy();
      return;
    }
    const [status, detail] = clientErrorAnswer(err.code);
    socket.end(problemResponse(status, detail));
  });
}

/** The status and detail for an error Node's HTTP parser reports (before any handler runs). */
export function clientErrorAnswer(code: string | undefined): [number, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'the request line and headers are larger than the server accepts'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'chunk extensions are larger than the server accepts'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'the request was not received in time'];
    default:
      return [400, 'the request is not valid HTTP/1.1'];
  }
}

const REASON: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 431: 'Request Header Fields Too Large' };

/** A whole HTTP/1.1 response carrying a problem document, for a socket no handler owns. */
export function problemResponse(status: number, detail: string): string {
  const body = JSON.stringify({ type: 'about:blank', title: REASON[status] ?? 'Error', status, detail });
  return (
    `HTTP/1.1 ${status} ${REASON[status] ?? 'Error'}\r\n` +
    'Content-Type: application/problem+json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'X-Content-Type-Options: nosniff\r\n' +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** 414 problem document for a request target longer than maxUrlBytes. */
export function uriLengthLimit(maxUrlBytes: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const length = Buffer.byteLength(req.originalUrl ?? req.url ?? '', 'utf8');
    if (length > maxUrlBytes) {
      sendProblem(res, 414, `the request target is ${length} bytes; the limit is ${maxUrlBytes}`, '');
      return;
    }
    next();
  };
}
