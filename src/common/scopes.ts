import { SetMetadata } from '@nestjs/common';

/**
 * What a bearer token may do. Every route that needs a token declares the one scope it needs
 * with `@RequireScope` (on the handler, or on the controller for all its handlers);
 * test/tokens.e2e-spec.ts walks the route table and fails for a route that declares none.
 *
 * | scope | grants |
 * |---|---|
 * | `read` | every GET, and the read-only computations (explain, replication check, anycast simulation) |
 * | `write` | `read`, and every change to zones, records, regions, services, promotions, the anycast topology, config apply |
 * | `health:report` | reporting health and replication lag for tools that post them (nothing else) |
 * | `measurements:report` | posting RTT measurements (`POST /v1/measurements`) for load balancers and synthetic agents (nothing else) |
 * | `admin` | everything: the above, tokens and the audit trail |
 */
export const SCOPES = ['read', 'write', 'health:report', 'measurements:report', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const REQUIRED_SCOPE = 'georoute:scope';

/** The scope a route needs (method or class decorator). */
export const RequireScope = (scope: Scope): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPE, scope);

/** What each scope implies beyond itself. */
const IMPLIES: Record<Scope, readonly Scope[]> = {
  read: [],
  write: ['read'],
  'health:report': [],
  'measurements:report': [],
  admin: ['read', 'write', 'health:report', 'measurements:report'],
};

/** Whether a token with `held` scopes may use a route that needs `needed`. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.some((s) => s === needed || IMPLIES[s].includes(needed));
}

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** Who made a request: the bootstrap admin (ADMIN_TOKEN) or a named API token. */
export interface Principal {
  /** `admin` for ADMIN_TOKEN, else the token's name. */
  readonly name: string;
  /** The token's id; null for ADMIN_TOKEN. */
  readonly tokenId: string | null;
  readonly scopes: readonly Scope[];
}

/**
 * Checks an API token (anything that is not ADMIN_TOKEN): its principal, or null when it is
 * unknown, wrong, revoked or expired. Declared here for the guard; the tokens module implements
 * it and app.module.ts binds it.
 */
export abstract class TokenVerifier {
  abstract verify(token: string): Promise<Principal | null>;
  /**
   * The principal of a token checked recently enough to believe without a lookup, or undefined
   * (unknown, or due a recheck: ask verify()). For the lean read path, which never awaits.
   */
  known(_token: string): Principal | undefined {
    return undefined;
  }
}
