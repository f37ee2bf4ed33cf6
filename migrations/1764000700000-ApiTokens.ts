import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scoped API tokens beside ADMIN_TOKEN. Only a scrypt hash of each secret is stored
 * (`scrypt$N$r$p$salt$hash`, base64url); the token itself is shown once, at creation. A revoked
 * token keeps its row (revoked_at) so the name and history stay readable; a name is unique
 * among the tokens not revoked.
 */
export class ApiTokens1764000700000 implements MigrationInterface {
  name = 'ApiTokens1764000700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_tokens (
        id text PRIMARY KEY,
        name text NOT NULL,
        scopes text[] NOT NULL,
        secret_hash text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_tokens`);
  }
}
