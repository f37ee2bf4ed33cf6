import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError, ErrorCode } from './domain-error';
import { TokenBackoff } from './token-backoff';

export const PUBLIC_ROUTE = 'georoute:public';
/** Marks a route that needs no bearer token (ops endpoints, the signed webhook). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/**
 * Bearer auth for every /v1 route. Tokens are compared as SHA-256 digests with timingSafeEqual,
 * so the comparison takes the same time whatever the length or content of the guess.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly expected: Buffer;
  private readonly backoff: TokenBackoff;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.expected = createHash('sha256').update(config.adminToken).digest();
    this.backoff = new TokenBackoff(config.trustedProxies);
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = createHash('sha256').update(m ? m[1] : '').digest();
    const valid = m !== null && timingSafeEqual(given, this.expected);
    this.backoff.settle(req, header !== '', valid);
    if (!valid) {
      throw new DomainError(ErrorCode.Unauthorized, 'a valid admin bearer token is required (Authorization: Bearer <ADMIN_TOKEN>)');
    }
    return true;
  }
}
