import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Measured latency (issue 19): RTT samples per client network and region, shared by every
 * instance, and the per-service public beacon keys. A sample holds the client's network only (its
 * /24 or /48 as a number, with the network's location class and country), never an address; the
 * reporting source is a token name or a keyed digest of the beacon's address.
 */
export class Measurements1764001100000 implements MigrationInterface {
  name = 'Measurements1764001100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE latency_samples (
        id bigserial PRIMARY KEY,
        family smallint NOT NULL CHECK (family IN (4, 6)),
        network bigint NOT NULL,
        place_key text,
        country text,
        region text NOT NULL,
        rtt_ms real NOT NULL CHECK (rtt_ms >= 0),
        source_id text NOT NULL,
        source_net text NOT NULL,
        origin text NOT NULL CHECK (origin IN ('feed', 'beacon')),
        observed_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX latency_samples_observed ON latency_samples (observed_at)`);
    await q.query(`CREATE INDEX latency_samples_region ON latency_samples (region, observed_at)`);
    await q.query(`
      CREATE TABLE beacon_keys (
        service text PRIMARY KEY REFERENCES services(fqdn) ON DELETE CASCADE,
        key text NOT NULL UNIQUE,
        probe_path text NOT NULL,
        sample_rate real NOT NULL CHECK (sample_rate > 0 AND sample_rate <= 1),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE beacon_keys`);
    await q.query(`DROP TABLE latency_samples`);
  }
}
