import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Health transitions get their own version beside the registry's: a health event used to bump
 * registry_version, so every instance (the writer's too) re-read and rebuilt the whole registry
 * for a health flip — 10,000 services of rows for one byte of state. Now health_events bump
 * health_version and notify with their table name; the change feed reloads health verdicts only.
 */
export class HealthVersion1764000500000 implements MigrationInterface {
  name = 'HealthVersion1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry_version ADD COLUMN health_version bigint NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE FUNCTION georoute_health_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE registry_version SET health_version = health_version + 1 WHERE id = 1;
        PERFORM pg_notify('georoute_changes', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    await q.query(`DROP TRIGGER health_events_changed ON health_events`);
    await q.query(`CREATE TRIGGER health_events_changed AFTER INSERT OR UPDATE OR DELETE ON health_events FOR EACH STATEMENT EXECUTE FUNCTION georoute_health_changed()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER health_events_changed ON health_events`);
    await q.query(`CREATE TRIGGER health_events_changed AFTER INSERT OR UPDATE OR DELETE ON health_events FOR EACH STATEMENT EXECUTE FUNCTION georoute_changed()`);
    await q.query(`DROP FUNCTION georoute_health_changed()`);
    await q.query(`ALTER TABLE registry_version DROP COLUMN health_version`);
  }
}
