import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The anycast topology upload, stored gzip-compressed in 1 MiB chunks (one INSERT each, outside
 * any long transaction) instead of one text value of up to 64 MiB: a big upload no longer holds
 * the database (the embedded one is a single backend) for seconds to minutes. `anycast_topology`
 * keeps the summary and points at the current upload; `source` stays for rows stored before.
 */
export class TopologyChunks1764000600000 implements MigrationInterface {
  name = 'TopologyChunks1764000600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE anycast_topology_chunks (
        upload_id  text NOT NULL,
        seq        integer NOT NULL,
        data       bytea NOT NULL,
        PRIMARY KEY (upload_id, seq)
      )`);
    // Already compressed: no second compression attempt by TOAST.
    await q.query(`ALTER TABLE anycast_topology_chunks ALTER COLUMN data SET STORAGE EXTERNAL`);
    await q.query(`ALTER TABLE anycast_topology ALTER COLUMN source DROP NOT NULL`);
    await q.query(`ALTER TABLE anycast_topology ADD COLUMN upload_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM anycast_topology WHERE source IS NULL`);
    await q.query(`ALTER TABLE anycast_topology DROP COLUMN upload_id`);
    await q.query(`ALTER TABLE anycast_topology ALTER COLUMN source SET NOT NULL`);
    await q.query(`DROP TABLE anycast_topology_chunks`);
  }
}
