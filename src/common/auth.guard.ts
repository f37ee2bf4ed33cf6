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
 * Bearer auth for every /v1 route. ADMIN_TOKEN is compared as a SHA-256 digest with
 * timingSafeEqual (the same time whatever the guess); any other token goes to the tokens module
 * (`TokenVerifier`). Then the route's scope (`@RequireScope`; a route that declares none needs
 * `admin`, so a forgotten declaration fails closed): missing, it is 403 naming the scope.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly expected: Buffer;
  private readonly backoff: TokenBackoff;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
    private readonly events: EventBus,
  ) {
    this.expected = createHash('sha256').update(config.adminToken).digest();
    this.backoff = new TokenBackoff(config.trustedProxies);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization ?? '';
    // Repeated bad tokens from one source: 429 with a growing Retry-After (token-backoff.ts),
    // decided before the token is looked up, so waiting guesses cost no scrypt or database read.
    this.backoff.admit(req, header !== '');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = m ? await this.identify(m[1]) : null;
    this.backoff.record(req, header !== '', principal !== null);
    if (!principal) {
      this.events.emit(AUTH_REFUSED, { reason: m ? 'bad-token' : 'no-token' });
      throw new DomainError(ErrorCode.Unauthorized, 'a valid bearer token is required (Authorization: Bearer <ADMIN_TOKEN or an API token>)');
    }
    req.principal = principal;
    const needed = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets) ?? 'admin';
    if (!grants(principal.scopes, needed)) {
      this.events.emit(AUTH_REFUSED, { reason: 'missing-scope' });
      throw new DomainError(ErrorCode.Forbidden, `the token "${principal.name}" lacks the scope "${needed}" this route needs (it has: ${principal.scopes.join(', ')})`, [], {
        requiredScope: needed,
        tokenScopes: principal.scopes,
      });
    }
    return true;
  }

  private async identify(token: string): Promise<Principal | null> {
    const given = createHash('sha256').update(token).digest();
    if (timingSafeEqual(given, this.expected)) return BOOTSTRAP_ADMIN;
    return this.tokens.verify(token);
  }
}
