import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Scope } from '../common/scopes';

/** One row of api_tokens (migration ApiTokens). */
export interface TokenRow {
  readonly id: string;
  readonly name: string;
  readonly scopes: Scope[];
  readonly secretHash: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

const COLUMNS = 'id, name, scopes, secret_hash, created_by, created_at, expires_at, revoked_at';

/** Every query on API tokens. */
@Injectable()
export class TokensRepository {
  constructor(private readonly ds: DataSource) {}

  /** Inserts a token; false when a live token already has the name. */
  async insert(t: { id: string; name: string; scopes: readonly Scope[]; secretHash: string; createdBy: string; expiresAt: Date | null }, m: EntityManager = this.ds.manager): Promise<TokenRow | null> {
    const rows: Record<string, unknown>[] = await m.query(
      `INSERT INTO api_tokens (id, name, scopes, secret_hash, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
      [t.id, t.name, t.scopes, t.secretHash, t.createdBy, t.expiresAt],
    );
    return rows.length ? toRow(rows[0]) : null;
  }

  async find(id: string, m: EntityManager = this.ds.manager): Promise<TokenRow | null> {
    const rows: Record<string, unknown>[] = await m.query(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
    return rows.length ? toRow(rows[0]) : null;
  }

  /** Tokens in id order after `after`, at most `limit` (+1 to tell whether there are more). */
  async page(after: string | null, limit: number): Promise<TokenRow[]> {
    const rows: Record<string, unknown>[] = await this.ds.query(`SELECT ${COLUMNS} FROM api_tokens WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`, [after, limit + 1]);
    return rows.map(toRow);
  }

  /** Marks a live token revoked now; the row as it is afterwards, or null when there is no such token. */
  async revoke(id: string, m: EntityManager = this.ds.manager): Promise<TokenRow | null> {
    // TypeORM answers an UPDATE on PostgreSQL with [rows, affected].
    const [rows] = (await m.query(`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`, [id])) as [Record<string, unknown>[], number];
    return rows.length ? toRow(rows[0]) : null;
  }
}

function toRow(r: Record<string, unknown>): TokenRow {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    id: String(r.id),
    name: String(r.name),
    scopes: r.scopes as Scope[],
    secretHash: String(r.secret_hash),
    createdBy: String(r.created_by),
    createdAt: new Date(r.created_at as string),
    expiresAt: date(r.expires_at),
    revokedAt: date(r.revoked_at),
  };
}
