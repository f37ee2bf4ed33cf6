import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import etag from 'etag';
import type { Request } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Observable, tap } from 'rxjs';
import { logAccess } from './common/access-log';
import type { ServerHeaders } from './common/lean-response';
import { BearerAuth, requiredScope } from './common/auth.guard';
import { CACHED_READ } from './common/cached-read';
import { CLUSTER_CHANGED, HEALTH_CHANGED, OnAppEvent, REGISTRY_CHANGED, REPLICATION_CHANGED } from './common/events';
import { grants, type Scope } from './common/scopes';
import { APP_CONFIG, type AppConfig } from './config/config';

/** How long an answer is believed without any change signal: as long as a checked token (tokens.service RECHECK_MS). */
export const READ_CACHE_MAX_AGE_MS = 500;
/** Answers kept (the oldest go first), and the largest body kept. */
const MAX_ENTRIES = 512;
const MAX_BODY_BYTES = 256 * 1024;

interface CachedAnswer {
  readonly generation: number;
  readonly at: number;
  /** The scope the route needs (its @RequireScope): checked against the token on every answer. */
  readonly scope: Scope;
  readonly body: Buffer;
  readonly etag: string;
}

/**
 * The admin API's registry reads (`@CachedRead` routes: zones, records, regions, services) in
 * front of Express (issue 22). Through Nest a read costs the router, the guard, a database query
 * and serialisation, ~1,500 a second; repeated, the same answer is a Map lookup, a token check
 * and one writeHead.
 *
 * How an answer gets here: Nest answers the first request as always, and this class, also a
 * global interceptor, keeps the handler's result (serialised as Express would, with Express's weak
 * ETag) under the request's URL with the generation current when the handler began.
 *
 * When it is answered here: same URL, same generation, younger than READ_CACHE_MAX_AGE_MS, a bearer
 * token already known good (ADMIN_TOKEN, or an API token checked within the last 500 ms), its scope
 * covering the route's, its source not in the bad-token backoff, and no conditional or no-cache
 * request header. Anything else goes to Nest, which answers (401, 403, 404, 429, 304, a fresh read).
 *
 * Generations: any request that may write (not GET/HEAD) under /v1 moves it when it arrives and when
 * its answer is sent, and so do the change events (registry, health, replication, another
 * instance's change), so an answer read before a change is never served after it; a read that
 * raced a write is kept under the old generation and never served.
 */
@Injectable()
export class AdminReadCache implements NestInterceptor {
  private readonly entries = new Map<string, CachedAnswer>();
  private generation = 0;
  private readonly logLines: boolean;
  /** Reads answered here (for tests and diagnostics). */
  answered = 0;

  constructor(
    private readonly reflector: Reflector,
    private readonly auth: BearerAuth,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.logLines = config.logLevel === 'debug' || config.logLevel === 'trace';
  }

  /** The lean answerer (src/redirect/fast-path.ts LeanAnswerer). */
  readonly answer = (req: IncomingMessage, res: ServerResponse, headers: ServerHeaders): boolean => {
    const method = req.method;
    const url = req.url ?? '';
    if (method !== 'GET') {
      if (method !== 'HEAD' && url.startsWith('/v1/')) this.writeArriving(res);
      return false;
    }
    const entry = this.entries.get(url);
    if (entry === undefined) return false;
    const now = Date.now();
    if (entry.generation !== this.generation || now - entry.at > READ_CACHE_MAX_AGE_MS) {
      this.entries.delete(url);
      return false;
    }
    const h = req.headers;
    if (h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined || h['cache-control'] !== undefined || h.pragma !== undefined) return false;
    const token = BearerAuth.tokenOf(h.authorization ?? '');
    if (token === null) return false;
    const principal = this.auth.identifyKnown(token);
    if (principal === undefined || !grants(principal.scopes, entry.scope)) return false;
    if (!this.auth.backoff.clearGood(req as Request, now)) return false;
    const started = this.logLines ? performance.now() : 0;
    headers.writeHead(res, 200, ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', entry.body.length, 'ETag', entry.etag]);
    res.end(entry.body);
    this.answered++;
    if (this.logLines) logAccess(req, url, 200, started);
    return true;
  };

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const targets = [context.getHandler(), context.getClass()];
    if (req.method !== 'GET' || this.reflector.get<boolean>(CACHED_READ, targets[0]) !== true) return next.handle();
    const generation = this.generation;
    const at = Date.now();
    const url = req.originalUrl;
    const scope = requiredScope(this.reflector, targets);
    return next.handle().pipe(tap((result) => this.keep(url, { generation, at, scope, result })));
  }

  @OnAppEvent(REGISTRY_CHANGED)
  @OnAppEvent(HEALTH_CHANGED)
  @OnAppEvent(REPLICATION_CHANGED)
  @OnAppEvent(CLUSTER_CHANGED)
  changed(): void {
    this.generation++;
  }

  private writeArriving(res: ServerResponse): void {
    this.changed();
    res.once('close', () => this.changed());
    res.once('finish', () => this.changed());
  }

  private keep(url: string, read: { generation: number; at: number; scope: Scope; result: unknown }): void {
    if (read.generation !== this.generation || read.result === undefined || read.result === null) return;
    // What Express's res.json sends for the handler's result.
    const body = Buffer.from(JSON.stringify(read.result));
    if (body.length > MAX_BODY_BYTES) return;
    this.entries.delete(url);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(url, { generation: read.generation, at: read.at, scope: read.scope, body, etag: etag(body, { weak: true }) });
  }
}
