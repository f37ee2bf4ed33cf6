import type { EntityManager } from 'typeorm';

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

  /** A transaction-scoped advisory lock: instances seeding an empty database at once take turns. */
  static async lockForSeeding(m: EntityManager, key: bigint): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1)', [key.toString()]);
  }
}
