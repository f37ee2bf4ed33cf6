import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface EndpointRow {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly events: string[];
  readonly description: string | null;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export interface DeliveryRow {
  readonly id: string;
  readonly endpointId: string;
  readonly eventType: string;
  readonly payload: unknown;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastStatus: string | null;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
}

/** A delivery claimed for one attempt, with where and how to send it. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly attempts: number;
  readonly payload: unknown;
  readonly url: string;
  readonly secret: string;
}

const ENDPOINT = 'id, url, secret, events, description, created_by, created_at';
const DELIVERY = 'id, endpoint_id, event_type, payload, status, attempts, next_attempt_at, last_status, created_at, delivered_at';

/** Every query on notification endpoints and their delivery outbox (migration Notifications). */
@Injectable()
export class NotificationsRepository {
  constructor(private readonly ds: DataSource) {}

  async insertEndpoint(e: Omit<EndpointRow, 'createdAt'>, m: EntityManager): Promise<EndpointRow> {
    const rows: Record<string, unknown>[] = await m.query(
      `INSERT INTO notification_endpoints (id, url, secret, events, description, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT}`,
      [e.id, e.url, e.secret, e.events, e.description, e.createdBy],
    );
    return toEndpoint(rows[0]);
  }

  async endpoint(id: string, m: EntityManager = this.ds.manager): Promise<EndpointRow | null> {
    const rows: Record<string, unknown>[] = await m.query(`SELECT ${ENDPOINT} FROM notification_endpoints WHERE id = $1`, [id]);
    return rows.length ? toEndpoint(rows[0]) : null;
  }

  async endpoints(after: string | null, limit: number): Promise<EndpointRow[]> {
    const rows: Record<string, unknown>[] = await this.ds.query(`SELECT ${ENDPOINT} FROM notification_endpoints WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`, [after, limit + 1]);
    return rows.map(toEndpoint);
  }

  async deleteEndpoint(id: string, m: EntityManager): Promise<void> {
    await m.query('DELETE FROM notification_endpoints WHERE id = $1', [id]);
  }

  /**
   * Queues one delivery of the event for every endpoint subscribed to its type, in the caller's
   * transaction, in one round trip (a change's transaction waits for each); how many.
   */
  async enqueueForSubscribers(eventType: string, payload: unknown, m: EntityManager): Promise<number> {
    const rows: unknown[] = await m.query(
      `INSERT INTO notification_deliveries (endpoint_id, event_type, payload)
       SELECT id, $1, $2::jsonb FROM notification_endpoints WHERE $1 = ANY(events) ORDER BY id RETURNING id`,
      [eventType, JSON.stringify(payload)],
    );
    return rows.length;
  }

  /** Queues one delivery per endpoint, in the caller's transaction; the ids. */
  async enqueue(endpointIds: readonly string[], eventType: string, payload: unknown, m: EntityManager): Promise<string[]> {
    if (endpointIds.length === 0) return [];
    const rows: { id: string }[] = await m.query(
      `INSERT INTO notification_deliveries (endpoint_id, event_type, payload) SELECT unnest($1::text[]), $2, $3::jsonb RETURNING id`,
      [endpointIds, eventType, JSON.stringify(payload)],
    );
    return rows.map((r) => String(r.id));
  }

  /**
   * Queues an event every instance observes for itself (a replica going stale), once per
   * subscribed endpoint and `key`: the instances after the first add nothing.
   */
  async enqueueOnce(eventType: string, key: string, payload: unknown): Promise<number> {
    const rows: unknown[] = await this.ds.query(
      `INSERT INTO notification_deliveries (endpoint_id, event_type, dedupe_key, payload)
       SELECT id, $1, $2, $3::jsonb FROM notification_endpoints WHERE $1 = ANY(events)
       ON CONFLICT (endpoint_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id`,
      [eventType, key, JSON.stringify(payload)],
    );
    return rows.length;
  }

  /**
   * Claims up to `limit` due deliveries for one attempt: counts the attempt and leases the rows
   * for `leaseSeconds` (SKIP LOCKED: instances claiming at once take different rows; an instance
   * that dies mid-attempt leaves a lease that runs out).
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
    const [rows] = (await this.ds.query(
      `UPDATE notification_deliveries d SET attempts = d.attempts + 1, locked_until = now() + make_interval(secs => $2)
         FROM notification_endpoints e
        WHERE e.id = d.endpoint_id AND d.id IN (
          SELECT id FROM notification_deliveries
           WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.attempts, d.payload, e.url, e.secret`,
      [limit, leaseSeconds],
    )) as [Record<string, unknown>[], number];
    return rows.map((r) => ({ id: String(r.id), attempts: Number(r.attempts), payload: r.payload, url: String(r.url), secret: String(r.secret) }));
  }

  /** The outcome of an attempt: delivered, failed for good, or pending again after `retryInMs`. */
  async settle(id: string, outcome: { status: 'delivered' | 'failed' | 'pending'; lastStatus: string; retryInMs: number }): Promise<void> {
    await this.ds.query(
      `UPDATE notification_deliveries SET status = $2, last_status = $3, locked_until = NULL,
              next_attempt_at = now() + make_interval(secs => $4::float8 / 1000), delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE NULL END
        WHERE id = $1`,
      [id, outcome.status, outcome.lastStatus.slice(0, 500), outcome.retryInMs],
    );
  }

  /** An endpoint's deliveries, newest first, below the id `before`. */
  async deliveries(endpointId: string, before: string | null, limit: number): Promise<DeliveryRow[]> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT ${DELIVERY} FROM notification_deliveries WHERE endpoint_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
      [endpointId, before, limit + 1],
    );
    return rows.map((r) => ({
      id: String(r.id),
      endpointId: String(r.endpoint_id),
      eventType: String(r.event_type),
      payload: r.payload,
      status: r.status as DeliveryRow['status'],
      attempts: Number(r.attempts),
      nextAttemptAt: new Date(r.next_attempt_at as string),
      lastStatus: (r.last_status as string | null) ?? null,
      createdAt: new Date(r.created_at as string),
      deliveredAt: r.delivered_at ? new Date(r.delivered_at as string) : null,
    }));
  }
}

function toEndpoint(r: Record<string, unknown>): EndpointRow {
  return {
    id: String(r.id),
    url: String(r.url),
    secret: String(r.secret),
    events: r.events as string[],
    description: (r.description as string | null) ?? null,
    createdBy: String(r.created_by),
    createdAt: new Date(r.created_at as string),
  };
}
