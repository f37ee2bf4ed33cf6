import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: one row per accepted change, written in the transaction of the change. The
 * actor is a token's name (never its secret; `admin` for ADMIN_TOKEN, `system` for changes no
 * request made: probes, automatic promotions, the start-up seed), the address is truncated to
 * /24 or /48 as in the logs, before/after carry the object with its secrets hidden.
 */
export class Audit1764000700100 implements MigrationInterface {
  name = 'Audit1764000700100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        token_id text,
        address text,
        route text,
        action text NOT NULL,
        kind text NOT NULL,
        name text NOT NULL,
        before jsonb,
        after jsonb
      )`);
    await q.query(`CREATE INDEX audit_log_object ON audit_log (kind, name, id)`);
    await q.query(`CREATE INDEX audit_log_actor ON audit_log (actor, id)`);
    await q.query(`CREATE INDEX audit_log_at ON audit_log (at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
  }
}
