import { MigrationInterface, QueryRunner } from 'typeorm';

/** Region health: the current state per region, every transition, and webhook ids seen (replay protection). */
export class Health1764000100000 implements MigrationInterface {
  name = 'Health1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE region_health (
        region      text PRIMARY KEY REFERENCES regions(name) ON DELETE CASCADE,
        state       jsonb NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE health_events (
        id           bigserial PRIMARY KEY,
        region       text NOT NULL,
        at           timestamptz NOT NULL,
        from_status  text NOT NULL,
        to_status    text NOT NULL,
        source       text NOT NULL,
        reason       text NOT NULL,
        instance     text
      )`);
    await q.query(`CREATE INDEX health_events_region_idx ON health_events (region, id DESC)`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        webhook_id   text PRIMARY KEY,
        region       text NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE health_events`);
    await q.query(`DROP TABLE region_health`);
  }
}
