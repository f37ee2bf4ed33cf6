import { MigrationInterface, QueryRunner } from 'typeorm';

/** The registry: zones with their static records, regions, services. */
export class Registry1764000000000 implements MigrationInterface {
  name = 'Registry1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE zones (
        name          text PRIMARY KEY,
        nameservers   jsonb NOT NULL,
        hostmaster    text NOT NULL,
        ttl           integer NOT NULL,
        refresh       integer NOT NULL,
        retry         integer NOT NULL,
        expire        integer NOT NULL,
        negative_ttl  integer NOT NULL,
        serial        bigint NOT NULL DEFAULT 1,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE zone_records (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        zone_name   text NOT NULL REFERENCES zones(name) ON DELETE CASCADE,
        name        text NOT NULL,
        type        text NOT NULL,
        ttl         integer NOT NULL,
        "values"    jsonb NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX zone_records_zone_name_idx ON zone_records (zone_name, name)`);
    await q.query(`
      CREATE TABLE regions (
        name                      text PRIMARY KEY,
        country_code              text NOT NULL,
        latitude                  double precision NOT NULL,
        longitude                 double precision NOT NULL,
        ipv4                      jsonb NOT NULL DEFAULT '[]',
        ipv6                      jsonb NOT NULL DEFAULT '[]',
        base_url                  text,
        weight                    integer NOT NULL DEFAULT 100,
        drained                   boolean NOT NULL DEFAULT false,
        capacity                  integer,
        health_check              jsonb,
        heartbeat_timeout_seconds integer,
        webhook_secret            text,
        anycast                   jsonb,
        created_at                timestamptz NOT NULL DEFAULT now(),
        updated_at                timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE services (
        fqdn                text PRIMARY KEY,
        zone_name           text NOT NULL REFERENCES zones(name) ON DELETE RESTRICT,
        policy              text NOT NULL,
        regions             jsonb NOT NULL,
        geolocation         jsonb,
        ttl                 integer NOT NULL,
        residency           text NOT NULL,
        unknown_location    text NOT NULL,
        when_all_unhealthy  text NOT NULL,
        answer_count        integer NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX services_zone_name_idx ON services (zone_name)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE services`);
    await q.query(`DROP TABLE regions`);
    await q.query(`DROP TABLE zone_records`);
    await q.query(`DROP TABLE zones`);
  }
}
