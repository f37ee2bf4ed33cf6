import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One registry version per transaction, not per statement: the trigger remembers which
 * transaction last bumped the version (`version_tx`) and bumps again only for another one. A
 * committed change then has exactly one version, which the writing instance reads before it
 * commits (ClusterRepository.versionOfThisTransaction) and its change feed recognises as its own:
 * no full registry reload for a change this instance has already applied incrementally.
 */
export class VersionPerTransaction1764000900000 implements MigrationInterface {
  name = 'VersionPerTransaction1764000900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry_version ADD COLUMN version_tx bigint`);
    await q.query(`
      CREATE OR REPLACE FUNCTION georoute_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE registry_version SET version = version + 1, version_tx = txid_current()
         WHERE id = 1 AND version_tx IS DISTINCT FROM txid_current();
        PERFORM pg_notify('georoute_changes', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION georoute_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE registry_version SET version = version + 1 WHERE id = 1;
        PERFORM pg_notify('georoute_changes', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    await q.query(`ALTER TABLE registry_version DROP COLUMN version_tx`);
  }
}
