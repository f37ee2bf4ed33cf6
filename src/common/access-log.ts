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
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const path = (req.originalUrl ?? '').split('?')[0].slice(0, 200);
    logger.debug(`${req.method} ${path} ${res.statusCode} ${ms.toFixed(1)} ms from ${truncateIp(req.socket.remoteAddress ?? '')}`);
  });
  next();
}
