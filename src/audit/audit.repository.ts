import { SliceClock } from '../common/slices';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface AuditRow {
  readonly id: string;
  readonly at: Date;
  readonly actor: string;
  readonly tokenId: string | null;
  readonly address: string | null;
  readonly route: string | null;
  readonly action: string;
  readonly kind: string;
  readonly name: string;
  readonly before: unknown;
  readonly after: unknown;
}

export type NewAuditRow = Omit<AuditRow, 'id' | 'at'>;

export interface AuditFilter {
  readonly kind: string | null;
  readonly name: string | null;
  readonly actor: string | null;
  readonly since: Date | null;
  readonly until: Date | null;
}

/**
 * Rows per INSERT: 9 parameters each, far below PostgreSQL's 65,535. Encoding 500 rows' JSON held
 * the event loop for ~14 ms; 250 for about half that.
 */
const CHUNK = 250;

/** Every query on audit_log (migration Audit). */
@Injectable()
export class AuditRepository {
  constructor(private readonly ds: DataSource) {}

  /** Inserts the entries in the caller's transaction. */
  async insert(m: EntityManager, rows: readonly NewAuditRow[]): Promise<void> {
    const clock = new SliceClock();
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const params: unknown[] = [];
      const values = chunk.map((r) => {
        const at = params.length;
        params.push(r.actor, r.tokenId, r.address, r.route, r.action, r.kind, r.name, json(r.before), json(r.after));
        return `(${Array.from({ length: 9 }, (_, k) => `$${at + k + 1}`).join(', ')})`;
      });
      await m.query(`INSERT INTO audit_log (actor, token_id, address, route, action, kind, name, before, after) VALUES ${values.join(', ')}`, params);
      await clock.turn(); // a chunk's JSON takes milliseconds: DNS answers between chunks
    }
  }

  /** Newest first: entries with an id below `before` (a cursor), matching the filter, at most limit + 1. */
  async page(filter: AuditFilter, before: string | null, limit: number): Promise<AuditRow[]> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT id, at, actor, token_id, address, route, action, kind, name, before, after FROM audit_log
        WHERE ($1::bigint IS NULL OR id < $1::bigint) AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR name = $3)
          AND ($4::text IS NULL OR actor = $4) AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)
        ORDER BY id DESC LIMIT $7`,
      [before, filter.kind, filter.name, filter.actor, filter.since, filter.until, limit + 1],
    );
    return rows.map((r) => ({
      id: String(r.id),
      at: new Date(r.at as string),
      actor: String(r.actor),
      tokenId: (r.token_id as string | null) ?? null,
      address: (r.address as string | null) ?? null,
      route: (r.route as string | null) ?? null,
      action: String(r.action),
      kind: String(r.kind),
      name: String(r.name),
      before: r.before ?? null,
      after: r.after ?? null,
    }));
  }
}

function json(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}
