import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError, ErrorCode } from './domain-error';
import { EventBus, AUTH_REFUSED } from './events';
import { grants, Principal, REQUIRED_SCOPE, Scope, TokenVerifier } from './scopes';
import { TokenBackoff } from './token-backoff';

export const PUBLIC_ROUTE = 'georoute:public';
/** Marks a route that needs no bearer token (ops endpoints, the signed webhook). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** ADMIN_TOKEN: the bootstrap admin, every scope. */
const BOOTSTRAP_ADMIN: Principal = { name: 'admin', tokenId: null, scopes: ['admin'] };

/** A request the guard let through carries who made it (for the audit trail and logs). */
export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

/**
 * Who a bearer token names: ADMIN_TOKEN compared as a SHA-256 digest with timingSafeEqual (the
 * same time whatever the guess), any other token through the tokens module (`TokenVerifier`);
 * and the bad-token backoff, per source. One instance, shared by the guard and the lean read
 * path (src/read-cache.ts), so both see the same backoff.
 */
@Injectable()
export class BearerAuth {
  private readonly expected: Buffer;
  readonly backoff: TokenBackoff;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tokens: TokenVerifier,
  ) {
    this.expected = createHash('sha256').update(config.adminToken).digest();
    this.backoff = new TokenBackoff(config.trustedProxies);
  }

  /** The token of an `Authorization: Bearer <token>` header, or null. */
  static tokenOf(header: string): string | null {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1] : null;
  }

  async identify(token: string): Promise<Principal | null> {
    return this.isAdmin(token) ? BOOTSTRAP_ADMIN : this.tokens.verify(token);
  }

  /** identify() without waiting: the principal if it is known now, undefined if a lookup is due. */
  identifyKnown(token: string): Principal | undefined {
    return this.isAdmin(token) ? BOOTSTRAP_ADMIN : this.tokens.known(token);
  }

  private isAdmin(token: string): boolean {
    return timingSafeEqual(createHash('sha256').update(token).digest(), this.expected);
  }
}

/**
 * Bearer auth for every /v1 route (BearerAuth above). Then the route's scope (`@RequireScope`; a
 * route that declares none needs `admin`, so a forgotten declaration fails closed): missing, it is
 * 403 naming the scope.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: BearerAuth,
    private readonly events: EventBus,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization ?? '';
    const backoff = this.auth.backoff;
    // Repeated bad tokens from one source: 429 with a growing Retry-After (token-backoff.ts),
    // decided before the token is looked up, so waiting guesses cost no scrypt or database read.
    backoff.admit(req, header !== '');
    const token = BearerAuth.tokenOf(header);
    const principal = token !== null ? await this.auth.identify(token) : null;
    backoff.record(req, header !== '', principal !== null);
    if (!principal) {
      this.events.emit(AUTH_REFUSED, { reason: token !== null ? 'bad-token' : 'no-token' });
      throw new DomainError(ErrorCode.Unauthorized, 'a valid bearer token is required (Authorization: Bearer <ADMIN_TOKEN or an API token>)');
    }
    req.principal = principal;
    const needed = requiredScope(this.reflector, targets);
    if (!grants(principal.scopes, needed)) {
      this.events.emit(AUTH_REFUSED, { reason: 'missing-scope' });
      throw new DomainError(ErrorCode.Forbidden, `the token "${principal.name}" lacks the scope "${needed}" this route needs (it has: ${principal.scopes.join(', ')})`, [], {
        requiredScope: needed,
        tokenScopes: principal.scopes,
      });
    }
    return true;
  }
}

/** The scope a route needs: its `@RequireScope`, else `admin`. */
export function requiredScope(reflector: Reflector, targets: Parameters<Reflector['getAllAndOverride']>[1]): Scope {
  return reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets) ?? 'admin';
}
