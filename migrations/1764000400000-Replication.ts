import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replication-aware routing: a service's replication settings (jsonb, null = not replicated), the
 * last replication lag each region reported per service, and the promotion history.
 */
export class Replication1764000400000 implements MigrationInterface {
  name = 'Replication1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE services ADD COLUMN replication jsonb`);
    // A write name belongs to one service (names of services themselves are checked by the API under the zone lock).
    await q.query(`CREATE UNIQUE INDEX services_write_fqdn_idx ON services ((replication->>'writeFqdn')) WHERE replication->>'writeFqdn' IS NOT NULL`);
    await q.query(`
      CREATE TABLE replication_lag (
        service      text NOT NULL REFERENCES services(fqdn) ON DELETE CASCADE,
        region       text NOT NULL REFERENCES regions(name) ON DELETE CASCADE,
        lag_ms       double precision NOT NULL CHECK (lag_ms >= 0),
        reported_at  timestamptz NOT NULL,
        instance     text,
        PRIMARY KEY (service, region)
      )`);
    await q.query(`
      CREATE TABLE replication_promotions (
        id                   bigserial PRIMARY KEY,
        service              text NOT NULL,
        at                   timestamptz NOT NULL DEFAULT now(),
        from_region          text NOT NULL,
        to_region            text NOT NULL,
        trigger              text NOT NULL CHECK (trigger IN ('automatic', 'manual')),
        forced               boolean NOT NULL DEFAULT false,
        data_loss_window_ms  double precision,
        reason               text NOT NULL,
        instance             text,
        notify_url           text,
        notified_at          timestamptz,
        notify_status        text
      )`);
    await q.query(`CREATE INDEX replication_promotions_service_idx ON replication_promotions (service, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE replication_promotions`);
    await q.query(`DROP TABLE replication_lag`);
    await q.query(`DROP INDEX services_write_fqdn_idx`);
    await q.query(`ALTER TABLE services DROP COLUMN replication`);
  }
}
