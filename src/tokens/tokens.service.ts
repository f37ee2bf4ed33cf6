import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../common/audit';
import { DomainError } from '../common/domain-error';
import { Page, PageRequest, toPage } from '../common/paging';
import { Principal, TokenVerifier } from '../common/scopes';
import { newToken, parseToken, verifySecret } from './token-secret';
import { CreateTokenDto, CreatedTokenResponse, TokenResponse } from './token.dto';
import { TokenRow, TokensRepository } from './tokens.repository';

/**
 * How long a checked token is believed before its row is read again. Revocation and expiry take
 * effect on every instance within this time; the slow scrypt check runs once per token and
 * process, later checks are one primary-key read.
 */
export const RECHECK_MS = 500;
const MAX_CACHED = 10_000;
/** Actors the audit trail names without a token (ADMIN_TOKEN, the signed webhook, background work): no token may take them. */
const RESERVED_NAMES = ['admin', 'system', 'signed-webhook'];

interface Checked {
  readonly principal: Principal;
  readonly expiresAt: number | null;
  checkedAt: number;
}

/** API tokens: create (secret shown once), list, revoke, and the check behind the bearer guard. */
@Injectable()
export class TokensService implements TokenVerifier {
  /** By SHA-256 of the whole token: tokens whose secret passed scrypt in this process. */
  private readonly checked = new Map<string, Checked>();
  /** First checks under way, so parallel requests with a new token run scrypt once. */
  private readonly pending = new Map<string, Promise<Principal | null>>();

  constructor(
    private readonly ds: DataSource,
    private readonly repository: TokensRepository,
    private readonly audit: AuditTrail,
  ) {}

  async create(dto: CreateTokenDto, by: Principal): Promise<CreatedTokenResponse> {
    if (RESERVED_NAMES.includes(dto.name)) throw DomainError.field('name', 'reserved', `"${dto.name}" names ${RESERVED_NAMES.join(', ')} in the audit trail; choose another name`);
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt !== null && expiresAt.getTime() <= Date.now()) throw DomainError.field('expiresAt', 'future', 'must be in the future');
    const fresh = await newToken();
    const row = await this.ds.transaction(async (m) => {
      const made = await this.repository.insert({ id: fresh.id, name: dto.name, scopes: dto.scopes, secretHash: fresh.secretHash, createdBy: by.name, expiresAt }, m);
      if (!made) throw DomainError.conflict(`a token named "${dto.name}" already exists; revoke it first or choose another name`);
      await this.audit.record(m, [{ action: 'create', kind: 'token', name: made.name, before: null, after: toTokenResponse(made) }]);
      return made;
    });
    return { ...toTokenResponse(row), token: fresh.token };
  }

  async list(page: PageRequest): Promise<Page<TokenResponse>> {
    return toPage(await this.repository.page(page.after, page.limit), page, (r) => r.id, toTokenResponse);
  }

  async get(id: string): Promise<TokenResponse> {
    const row = await this.repository.find(id);
    if (!row) throw DomainError.notFound('token', id);
    return toTokenResponse(row);
  }

  async revoke(id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const old = await this.repository.find(id, m);
      if (!old) throw DomainError.notFound('token', id);
      if (old.revokedAt !== null) return;
      const row = await this.repository.revoke(id, m);
      await this.audit.record(m, [{ action: 'revoke', kind: 'token', name: old.name, before: toTokenResponse(old), after: row && toTokenResponse(row) }]);
    });
    for (const [key, c] of this.checked) if (c.principal.tokenId === id) this.checked.delete(key);
  }

  async verify(token: string): Promise<Principal | null> {
    const parsed = parseToken(token);
    if (!parsed) return null;
    const key = createHash('sha256').update(token).digest('base64');
    const known = this.checked.get(key);
    if (known && believable(known, Date.now())) return known.principal;
    const running = this.pending.get(key);
    if (running) return running;
    const check = this.check(key, parsed, known).finally(() => this.pending.delete(key));
    this.pending.set(key, check);
    return check;
  }

  known(token: string): Principal | undefined {
    const c = this.checked.get(createHash('sha256').update(token).digest('base64'));
    return c && believable(c, Date.now()) ? c.principal : undefined;
  }

  /** Reads the row; runs scrypt only for a token not yet checked in this process. */
  private async check(key: string, parsed: { id: string; secret: string }, known: Checked | undefined): Promise<Principal | null> {
    const row = await this.repository.find(parsed.id);
    const now = Date.now();
    if (!row || !isActive(row, now)) {
      this.checked.delete(key);
      return null;
    }
    if (!known && !(await verifySecret(parsed.secret, row.secretHash))) return null;
    const principal: Principal = known?.principal ?? { name: row.name, tokenId: row.id, scopes: row.scopes };
    if (!known && this.checked.size >= MAX_CACHED) this.checked.delete(this.checked.keys().next().value!);
    this.checked.set(key, { principal, expiresAt: row.expiresAt?.getTime() ?? null, checkedAt: now });
    return principal;
  }
}

function isActive(row: TokenRow, now: number): boolean {
  return row.revokedAt === null && (row.expiresAt === null || row.expiresAt.getTime() > now);
}

export function toTokenResponse(row: TokenRow): TokenResponse {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    active: isActive(row, Date.now()),
  };
}

/** A token checked less than RECHECK_MS ago and not expired is believed without reading its row. */
function believable(c: Checked, now: number): boolean {
  return now - c.checkedAt < RECHECK_MS && (c.expiresAt === null || c.expiresAt > now);
}
