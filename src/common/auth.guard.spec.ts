import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { AppConfig } from '../config/config';
import { AdminAuthGuard, BearerAuth } from './auth.guard';
import { DomainError, ErrorCode } from './domain-error';
import { EventBus } from './events';
import { Principal, RequireScope, TokenVerifier } from './scopes';
import { TOKEN_BACKOFF } from './token-backoff';

/** A verifier that knows one API token and counts the lookups the guard asks for. */
class CountingVerifier extends TokenVerifier {
  lookups = 0;
  async verify(token: string): Promise<Principal | null> {
    this.lookups++;
    return token === 'grt_good_token' ? { name: 'ci', tokenId: 't1', scopes: ['read'] } : null;
  }
}

class Handlers {
  @RequireScope('read')
  list(): void {}
}

function contextFor(authorization: string | undefined, address: string): ExecutionContextHost {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const set: Record<string, string> = {};
  const req = { headers, socket: { remoteAddress: address }, res: { setHeader: (k: string, v: string) => (set[k] = v) }, set };
  const ctx = new ExecutionContextHost([req, req.res]);
  ctx.setType('http');
  // The guard reads the route's metadata from the handler and its class.
  Object.assign(ctx, { getHandler: () => Handlers.prototype.list, getClass: () => Handlers });
  return ctx;
}

async function outcome(guard: AdminAuthGuard, ctx: ExecutionContextHost): Promise<string> {
  try {
    await guard.canActivate(ctx);
    return 'allowed';
  } catch (err) {
    return (err as DomainError).code;
  }
}

describe('AdminAuthGuard and the bad-token backoff', () => {
  const config = { adminToken: 'the-admin-token-0123456789', trustedProxies: [] } as unknown as AppConfig;
  let verifier: CountingVerifier;
  let guard: AdminAuthGuard;
  beforeEach(() => {
    verifier = new CountingVerifier();
    guard = new AdminAuthGuard(new Reflector(), new BearerAuth(config, verifier), new EventBus(new EventEmitter2()));
  });

  it('a source in backoff is refused before its token is looked up (no scrypt, no database read)', async () => {
    for (let i = 0; i < TOKEN_BACKOFF.FREE_FAILURES + 1; i++) expect(await outcome(guard, contextFor(`Bearer grt_bad_${i}`, '192.0.2.7'))).toBe(ErrorCode.Unauthorized);
    expect(verifier.lookups).toBe(TOKEN_BACKOFF.FREE_FAILURES + 1);
    const waiting = contextFor('Bearer grt_bad_more', '192.0.2.7');
    expect(await outcome(guard, waiting)).toBe(ErrorCode.TooManyRequests);
    expect((waiting.getArgByIndex(0) as { set: Record<string, string> }).set['Retry-After']).toBe('1');
    expect(await outcome(guard, contextFor('Bearer grt_good_token', '192.0.2.7'))).toBe(ErrorCode.TooManyRequests);
    expect(verifier.lookups).toBe(TOKEN_BACKOFF.FREE_FAILURES + 1);
    // Another source is not affected, and is looked up as usual.
    expect(await outcome(guard, contextFor('Bearer grt_good_token', '192.0.2.8'))).toBe('allowed');
    expect(verifier.lookups).toBe(TOKEN_BACKOFF.FREE_FAILURES + 2);
  });

  it.each([
    // header, status, lookups
    [undefined, ErrorCode.Unauthorized, 0],
    ['Basic abc', ErrorCode.Unauthorized, 0],
    ['Bearer the-admin-token-0123456789', 'allowed', 0],
    ['Bearer grt_good_token', 'allowed', 1],
    ['Bearer grt_unknown', ErrorCode.Unauthorized, 1],
  ])('Authorization %p -> %s after %i verifier lookups', async (header, status, lookups) => {
    expect(await outcome(guard, contextFor(header, '198.51.100.1'))).toBe(status);
    expect(verifier.lookups).toBe(lookups);
  });
});
