import { MigrationInterface, QueryRunner } from 'typeorm';

/** The loaded AS-level topology for the anycast simulator: one row, kept as uploaded. */
export class Anycast1764000200000 implements MigrationInterface {
  name = 'Anycast1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE anycast_topology (
        id          integer PRIMARY KEY CHECK (id = 1),
        format      text NOT NULL,
        source      text NOT NULL,
        summary     jsonb NOT NULL,
        uploaded_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE anycast_topology`);
  }
}
