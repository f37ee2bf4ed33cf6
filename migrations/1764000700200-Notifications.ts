import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts: the operator's notification endpoints and an outbox of deliveries. A delivery row is
 * written in the transaction of the change it reports (a health transition, a promotion), so
 * there is one per event however many instances run (events that every instance observes for
 * itself carry a dedupe_key, unique per endpoint); instances claim due rows with
 * FOR UPDATE SKIP LOCKED and a lease (locked_until), so one sends each attempt.
 */
export class Notifications1764000700200 implements MigrationInterface {
  name = 'Notifications1764000700200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_endpoints (
        id text PRIMARY KEY,
        url text NOT NULL,
        secret text NOT NULL,
        events text[] NOT NULL,
        description text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE notification_deliveries (
        id bigserial PRIMARY KEY,
        endpoint_id text NOT NULL REFERENCES notification_endpoints (id) ON DELETE CASCADE,
        event_type text NOT NULL,
        dedupe_key text,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz,
        last_status text,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      )`);
    await q.query(`CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX notification_deliveries_endpoint ON notification_deliveries (endpoint_id, id)`);
    // Events every instance observes (a replica going stale) carry a key: one delivery per endpoint and key.
    await q.query(`CREATE UNIQUE INDEX notification_deliveries_dedupe ON notification_deliveries (endpoint_id, dedupe_key) WHERE dedupe_key IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_deliveries`);
    await q.query(`DROP TABLE notification_endpoints`);
  }
}
