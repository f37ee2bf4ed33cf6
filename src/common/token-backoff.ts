import type { Request } from 'express';
import { clientAddress } from './client-ip';
import { DomainError, ErrorCode } from './domain-error';

/**
 * Backoff on repeated bad bearer tokens, per source address (the client address, through
 * TRUSTED_PROXIES as everywhere else). A request that presents a token (any Authorization
 * header) and fails counts; one without a header does not. After FREE_FAILURES failures a
 * source waits BASE_MS, doubling with every further failure up to MAX_MS; while it waits, every
 * request it sends with a token is 429 with Retry-After, the right token included, so guessing
 * goes no faster than the backoff. A success clears the source; a source that has not failed
 * for FORGET_MS starts again. At most MAX_SOURCES sources are remembered (the oldest go first).
 */
export interface TokenBackoffPolicy {
  readonly FREE_FAILURES: number;
  readonly BASE_MS: number;
  readonly MAX_MS: number;
  readonly FORGET_MS: number;
  readonly MAX_SOURCES: number;
}
export const TOKEN_BACKOFF: TokenBackoffPolicy = Object.freeze({ FREE_FAILURES: 10, BASE_MS: 1000, MAX_MS: 60_000, FORGET_MS: 15 * 60_000, MAX_SOURCES: 10_000 });

interface SourceState {
  failures: number;
  lastFailure: number;
  until: number;
}

export class TokenBackoff {
  private readonly sources = new Map<string, SourceState>();

  constructor(
    private readonly trusted: Parameters<typeof clientAddress>[2] = [],
    private readonly policy: TokenBackoffPolicy = TOKEN_BACKOFF,
  ) {}

  /**
   * The guard's first call, before the token is looked up: throws 429 while the request's source
   * waits, so a guesser in backoff costs no token lookup (no scrypt, no database read).
   */
  admit(req: Request, presented: boolean, now = Date.now()): void {
    if (!presented) return;
    const wait = this.waitMs(this.sourceOf(req), now);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      req.res?.setHeader('Retry-After', String(seconds));
      throw new DomainError(ErrorCode.TooManyRequests, `too many bad bearer tokens from this address; try again in ${seconds} s`);
    }
  }

  /**
   * For a request the lean read path answers with a known good token: false while its source
   * waits (the guard then answers 429), else clears the source as record() would. No address
   * work while no source is failing.
   */
  clearGood(req: Request, now = Date.now()): boolean {
    if (this.sources.size === 0) return true;
    const source = this.sourceOf(req);
    if (this.waitMs(source, now) > 0) return false;
    this.sources.delete(source);
    return true;
  }

  /** The guard's second call, once the token is checked: a success clears the source, a failure counts. */
  record(req: Request, presented: boolean, valid: boolean, now = Date.now()): void {
    if (!presented) return;
    const source = this.sourceOf(req);
    if (valid) this.sources.delete(source);
    else this.fail(source, now);
  }

  private sourceOf(req: Request): string {
    return clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.trusted)?.ip ?? 'unknown';
  }

  /** How long this source must wait before presenting a token again (0: it may now). */
  waitMs(source: string, now: number): number {
    const s = this.sources.get(source);
    if (!s) return 0;
    if (now - s.lastFailure >= this.policy.FORGET_MS) {
      this.sources.delete(source);
      return 0;
    }
    return Math.max(0, s.until - now);
  }

  fail(source: string, now: number): void {
    const s = this.sources.get(source) ?? { failures: 0, lastFailure: now, until: 0 };
    if (now - s.lastFailure >= this.policy.FORGET_MS) s.failures = 0;
    s.failures += 1;
    s.lastFailure = now;
    const over = s.failures - this.policy.FREE_FAILURES;
    s.until = over > 0 ? now + Math.min(this.policy.MAX_MS, this.policy.BASE_MS * 2 ** Math.min(over - 1, 30)) : 0;
    this.sources.delete(source);
    this.sources.set(source, s);
    if (this.sources.size > this.policy.MAX_SOURCES) this.sources.delete(this.sources.keys().next().value!);
  }
}
