import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from '@nestjs/common';
import { truncateIp } from './ip';

const logger = new Logger('http');

/**
 * One debug line per HTTP request: method, path (never the query string, which may carry a client
 * address), status, duration and the peer truncated to its /24 or /48 (client addresses are
 * personal data).
 */
export function accessLog(req: Request, res: Response, next: NextFunction): void {
  const started = performance.now();
  res.on('finish', () => logAccess(req, req.originalUrl ?? '', res.statusCode, started));
  next();
}

/**
 * The line, for requests answered in front of Express (src/redirect/fast-path.ts, src/read-cache.ts);
 * `started` is performance.now() when the request came.
 */
export function logAccess(req: IncomingMessage, url: string, status: number, started: number): void {
  const ms = performance.now() - started;
  const path = url.split('?')[0].slice(0, 200);
  logger.debug(`${req.method} ${path} ${status} ${ms.toFixed(1)} ms from ${truncateIp(req.socket.remoteAddress ?? '')}`);
}
