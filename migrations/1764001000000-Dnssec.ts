import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DNSSEC per zone. `dnssec_zones` holds whether a zone is signed ('signed') or on its way back to
 * unsigned ('unsigning': still signed, CDS/CDNSKEY delete published, RFC 8078). `dnssec_keys`
 * holds the signing keys: the public key in the clear, the private key sealed with AES-256-GCM
 * (common/dnssec-keys.ts) under a key that is never stored here. Both tables feed the change feed,
 * so every instance signs with the same keys.
 */
export class Dnssec1764001000000 implements MigrationInterface {
  name = 'Dnssec1764001000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dnssec_zones (
        zone_name text PRIMARY KEY REFERENCES zones(name) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('signed', 'unsigning')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE dnssec_keys (
        id text PRIMARY KEY,
        zone_name text NOT NULL REFERENCES dnssec_zones(zone_name) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('csk', 'ksk', 'zsk')),
        algorithm int NOT NULL,
        flags int NOT NULL,
        key_tag int NOT NULL,
        public_key text NOT NULL,
        private_key_sealed text NOT NULL,
        state text NOT NULL CHECK (state IN ('published', 'active', 'retired')),
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz NOT NULL DEFAULT now(),
        active_at timestamptz,
        retired_at timestamptz
      )`);
    await q.query(`CREATE INDEX dnssec_keys_zone ON dnssec_keys (zone_name)`);
    for (const table of ['dnssec_zones', 'dnssec_keys']) {
      await q.query(`CREATE TRIGGER ${table}_changed AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION georoute_changed()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dnssec_keys`);
    await q.query(`DROP TABLE dnssec_zones`);
  }
}
