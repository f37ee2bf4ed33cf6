import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { EntityManager } from 'typeorm';
import type { Principal } from './scopes';
import { yieldToForeground } from './foreground';

/** One accepted change, as the audit trail records it (who, from where and which route come from the request). */
export interface AuditChange {
  readonly action: 'create' | 'update' | 'delete' | 'promote' | 'transition' | 'revoke' | 'replace' | 'test';
  readonly kind: 'zone' | 'record' | 'region' | 'service' | 'token' | 'anycast-topology' | 'region-health' | 'notification-endpoint' | 'dnssec' | 'beacon-key';
  /** Zones, regions, services: the name; records: "<owner> <type> in <zone>"; tokens: the name. */
  readonly name: string;
  /** The object before and after (null for a create's before and a delete's after); secrets are removed when recorded. */
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * Records changes in the audit trail inside the caller's transaction, so an entry exists exactly
 * when its change committed. Declared here for every module that changes something; the audit
 * module implements it and app.module.ts binds it.
 */
export abstract class AuditTrail {
  abstract record(m: EntityManager, changes: readonly AuditChange[]): Promise<void>;
  /** Forgets the log lines of this request's changes (a dry run rolled them back). */
  abstract discardPending(): void;
}

/** The request a change is made in: who (set by the bearer guard) and the log lines to write once it succeeded. */
export interface RequestContext {
  readonly req: Request & { principal?: Principal };
  readonly pendingLogs: string[];
  /**
   * The response has gone. Work the request started in the background (a probe scheduled by a
   * PATCH, a timer) inherits this context through AsyncLocalStorage; once the request is over,
   * what that work changes is no longer the request's doing.
   */
  over: boolean;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** Audit log lines written per turn of the event loop after a response (see writeLines). */
export const LOG_LINES_PER_TURN = 200;

/**
 * Writes `lines` in order, LOG_LINES_PER_TURN of them per turn of the event loop: a config/apply
 * of 10,000 services has 10,000 lines, about 100 ms of formatting and writing, which in one turn
 * held DNS answers and the webhooks arriving next behind it; between batches, requests in
 * progress go first (yieldToForeground). The changes themselves are in the audit trail
 * (committed with them); these lines only report them.
 */
export function writeLines(lines: readonly string[], log: (line: string) => void, from = 0): void {
  const end = Math.min(lines.length, from + LOG_LINES_PER_TURN);
  for (let i = from; i < end; i++) log(lines[i]);
  // The next batch lets the requests in progress go first (common/foreground.ts).
  if (end < lines.length) void yieldToForeground().then(() => writeLines(lines, log, end));
}

/**
 * Express middleware: runs the rest of the request inside its RequestContext. Registered after
 * the body parsers, so the context is entered where the router, the guard and the handler run.
 * The info line of each change is written when the response finished with a success status
 * (at once for up to LOG_LINES_PER_TURN lines, else in turns: writeLines).
 */
export function withRequestContext(log: (line: string) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const ctx: RequestContext = { req, pendingLogs: [], over: false };
    res.on('finish', () => {
      ctx.over = true;
      if (res.statusCode < 400) writeLines(ctx.pendingLogs, log);
    });
    res.on('close', () => {
      ctx.over = true;
    });
    requestContext.run(ctx, next);
  };
}

const SECRET_KEYS = new Set(['webhooksecret', 'notifysecret', 'secret', 'secrethash', 'token', 'password']);

/** A copy with every secret-bearing field replaced by "(hidden)" (null stays null), at any depth. */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value instanceof Date ? value.toISOString() : value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k.toLowerCase()) ? (v === null || v === undefined ? null : '(hidden)') : withoutSecrets(v);
  return out;
}
