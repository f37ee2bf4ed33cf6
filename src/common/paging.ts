import type { ObjectLiteral, Repository } from 'typeorm';
import { DomainError } from './domain-error';

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  /** The key after which the page starts (exclusive), or null for the first page. */
  after: string | null;
}

/** Parses `limit` (1-500, default 100) and the opaque `cursor` of a list request. */
export function parsePageQuery(query: Record<string, unknown>, allowed: readonly string[] = []): PageRequest {
  for (const key of Object.keys(query)) {
    if (key !== 'limit' && key !== 'cursor' && !allowed.includes(key)) {
      throw DomainError.field(key, 'unknown-parameter', 'is not a known query parameter (use limit and cursor)');
    }
  }
  let limit = 100;
  if (query.limit !== undefined) {
    const raw = String(query.limit);
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 500) {
      throw DomainError.field('limit', 'range', 'must be an integer from 1 to 500');
    }
    limit = Number(raw);
  }
  let after: string | null = null;
  if (query.cursor !== undefined && query.cursor !== '') {
    try {
      const decoded = Buffer.from(String(query.cursor), 'base64url').toString('utf8');
      if (!decoded.startsWith('k:')) throw new Error('bad');
      after = decoded.slice(2);
    } catch {
      throw DomainError.field('cursor', 'cursor', 'is not a cursor returned by this API');
    }
  }
  return { limit, after };
}

/** Builds a page from rows fetched with limit+1 (the extra row only says there is more). */
export function toPage<R, T>(rows: R[], req: PageRequest, key: (r: R) => string, view: (r: R) => T): Page<T> {
  const more = rows.length > req.limit;
  const items = more ? rows.slice(0, req.limit) : rows;
  const last = items[items.length - 1];
  return {
    items: items.map(view),
    nextCursor: more && last !== undefined ? Buffer.from(`k:${key(last)}`, 'utf8').toString('base64url') : null,
  };
}

/** One page of a table in the order of a unique text column (the cursor is that column's last value). */
export async function pageOrderedBy<E extends ObjectLiteral, T>(
  repository: Repository<E>,
  column: keyof E & string,
  page: PageRequest,
  toResponse: (row: E) => T,
): Promise<Page<T>> {
  const qb = repository.createQueryBuilder('row').orderBy(`row.${column}`, 'ASC').limit(page.limit + 1);
  if (page.after !== null) qb.where(`row.${column} > :after`, { after: page.after });
  return toPage(await qb.getMany(), page, (row) => String(row[column]), toResponse);
}
