import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scale-out: a registry version bumped by every committed change (statement triggers), announced
 * with NOTIFY for instances that LISTEN and read by the polling fallback (for PostgreSQL-compatible
 * databases without LISTEN); the instances table; per-instance health votes.
 */
export class ChangeFeed1764000300000 implements MigrationInterface {
  name = 'ChangeFeed1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE registry_version (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)`);
    await q.query(`INSERT INTO registry_version (id, version) VALUES (1, 0)`);
    await q.query(`
      CREATE FUNCTION georoute_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE registry_version SET version = version + 1 WHERE id = 1;
        PERFORM pg_notify('georoute_changes', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    for (const table of ['zones', 'zone_records', 'regions', 'services', 'health_events', 'anycast_topology']) {
      await q.query(`CREATE TRIGGER ${table}_changed AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION georoute_changed()`);
    }
    await q.query(`
      CREATE TABLE instances (
        instance_id       text PRIMARY KEY,
        started_at        timestamptz NOT NULL,
        last_seen         timestamptz NOT NULL,
        snapshot_version  bigint NOT NULL,
        registry_version  bigint NOT NULL,
        http_port         integer,
        dns_port          integer
      )`);
    await q.query(`
      CREATE TABLE health_votes (
        region       text NOT NULL REFERENCES regions(name) ON DELETE CASCADE,
        instance_id  text NOT NULL,
        status       text NOT NULL,
        reason       text,
        observed_at  timestamptz NOT NULL,
        PRIMARY KEY (region, instance_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE health_votes`);
    await q.query(`DROP TABLE instances`);
    for (const table of ['zones', 'zone_records', 'regions', 'services', 'health_events', 'anycast_topology']) {
      await q.query(`DROP TRIGGER ${table}_changed ON ${table}`);
    }
    await q.query(`DROP FUNCTION georoute_changed()`);
    await q.query(`DROP TABLE registry_version`);
  }
}
