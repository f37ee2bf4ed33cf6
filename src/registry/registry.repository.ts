import { MoreThan, type EntityManager } from 'typeorm';
import { SliceClock } from '../common/slices';
import { ServiceEntity } from './service.entity';

/**
 * The registry's hand-written SQL (what TypeORM's finders do not express: the JSON write name of
 * replicated services, the serial bump, the seed lock). Each runs on the caller's transaction.
 */
export class RegistryRepository {
  /** The service whose replication write name is `writeFqdn` (other than `except`), or null. */
  static async writerOf(m: EntityManager, writeFqdn: string, except?: string): Promise<string | null> {
    const rows: { fqdn: string }[] = except === undefined
      ? await m.query(`SELECT fqdn FROM services WHERE replication->>'writeFqdn' = $1`, [writeFqdn])
      : await m.query(`SELECT fqdn FROM services WHERE replication->>'writeFqdn' = $1 AND fqdn <> $2`, [writeFqdn, except]);
    return rows.length > 0 ? rows[0].fqdn : null;
  }

  /** Write name -> the service it belongs to, for those of `names` that are write names. */
  static async writersOf(m: EntityManager, names: readonly string[]): Promise<Map<string, string>> {
    const rows: { fqdn: string; w: string }[] = await m.query(`SELECT fqdn, replication->>'writeFqdn' AS w FROM services WHERE replication->>'writeFqdn' = ANY($1)`, [names]);
    return new Map(rows.map((r) => [r.w, r.fqdn]));
  }

  /** The zone's SOA serial + 1 (every change in a zone bumps it in the same transaction). */
  static async bumpSerial(m: EntityManager, zoneName: string): Promise<void> {
    await m.query('UPDATE zones SET serial = serial + 1, updated_at = now() WHERE name = $1', [zoneName]);
  }

  /**
   * Every service, by name, read in pages of SERVICE_PAGE rows with a turn of the event loop
   * between them: a 10,000-row result was parsed and made into entities in one stretch of 70-110
   * ms (node-postgres parses what a read of the socket brings, up to 2 MB at once), and DNS waited.
   * Without a transaction the pages are not one moment's view: a write that commits meanwhile
   * emits its change event after the commit, and the snapshot built from this is rebuilt after it.
   */
  static async servicesInPages(m: EntityManager): Promise<ServiceEntity[]> {
    const clock = new SliceClock();
    const out: ServiceEntity[] = [];
    for (let after: string | null = null; ; ) {
      const page: ServiceEntity[] = await m.find(ServiceEntity, { where: after === null ? {} : { fqdn: MoreThan(after) }, order: { fqdn: 'ASC' }, take: SERVICE_PAGE });
      out.push(...page);
      if (page.length < SERVICE_PAGE) return out;
      after = page[page.length - 1].fqdn;
      await clock.turn();
    }
  }

  /**
   * Inserts new services (created by ServicesService.createMany, checked there), setting each
   * entity's createdAt and updatedAt from the row. One statement per SERVICE_INSERT_CHUNK rows,
   * its columns as arrays (unnest): TypeORM's insert builder took 20-30 ms of CPU per 500 rows
   * without a break, which a 10,000-service apply did twenty times while DNS waited.
   */
  static async insertServices(m: EntityManager, services: readonly ServiceEntity[]): Promise<void> {
    const clock = new SliceClock();
    const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
    for (let i = 0; i < services.length; i += SERVICE_INSERT_CHUNK) {
      const chunk = services.slice(i, i + SERVICE_INSERT_CHUNK);
      const rows: { fqdn: string; created_at: Date; updated_at: Date }[] = await m.query(
        `INSERT INTO services (fqdn, zone_name, policy, regions, geolocation, ttl, residency, unknown_location, when_all_unhealthy, answer_count, replication)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::int[], $7::text[], $8::text[], $9::text[], $10::int[], $11::jsonb[])
         RETURNING fqdn, created_at, updated_at`,
        [
          chunk.map((s) => s.fqdn),
          chunk.map((s) => s.zoneName),
          chunk.map((s) => s.policy),
          chunk.map((s) => json(s.regions)),
          chunk.map((s) => json(s.geolocation)),
          chunk.map((s) => s.ttl),
          chunk.map((s) => s.residency),
          chunk.map((s) => s.unknownLocation),
          chunk.map((s) => s.whenAllUnhealthy),
          chunk.map((s) => s.answerCount),
          chunk.map((s) => json(s.replication)),
        ],
      );
      const byName = new Map(rows.map((r) => [r.fqdn, r]));
      for (const s of chunk) {
        const row = byName.get(s.fqdn);
        if (row === undefined) throw new Error(`service ${s.fqdn} was not inserted`);
        s.createdAt = new Date(row.created_at);
        s.updatedAt = new Date(row.updated_at);
      }
      await clock.turn();
    }
  }

  /** A transaction-scoped advisory lock: instances seeding an empty database at once take turns. */
  static async lockForSeeding(m: EntityManager, key: bigint): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [key.toString()]);
  }
}

/** Rows per INSERT of insertServices (node-postgres encoded 1,000 rows' arrays in ~12 ms at once). */
const SERVICE_INSERT_CHUNK = 250;
/** Rows per page of servicesInPages. */
const SERVICE_PAGE = 500;
