import type { EntityManager } from 'typeorm';

export type DnssecStatus = 'signed' | 'unsigning';
export type DnssecKeyRole = 'csk' | 'ksk' | 'zsk';
export type DnssecKeyState = 'published' | 'active' | 'retired';

export interface DnssecZoneRow {
  readonly zoneName: string;
  readonly status: DnssecStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface DnssecKeyRow {
  readonly id: string;
  readonly zoneName: string;
  readonly role: DnssecKeyRole;
  readonly algorithm: number;
  readonly flags: number;
  readonly keyTag: number;
  /** base64 of the DNSKEY public key field. */
  readonly publicKey: string;
  readonly privateKeySealed: string;
  readonly state: DnssecKeyState;
  readonly createdAt: Date;
  readonly publishedAt: Date;
  readonly activeAt: Date | null;
  readonly retiredAt: Date | null;
}

const KEY_COLUMNS = `id, zone_name AS "zoneName", role, algorithm, flags, key_tag AS "keyTag", public_key AS "publicKey",
  private_key_sealed AS "privateKeySealed", state, created_at AS "createdAt", published_at AS "publishedAt",
  active_at AS "activeAt", retired_at AS "retiredAt"`;

/** The SQL of DNSSEC (migrations/1764001000000-Dnssec.ts): zones' signing status and their keys. */
export class DnssecRepository {
  static async zone(m: EntityManager, zoneName: string): Promise<DnssecZoneRow | null> {
    const rows: DnssecZoneRow[] = await m.query(
      `SELECT zone_name AS "zoneName", status, created_at AS "createdAt", updated_at AS "updatedAt" FROM dnssec_zones WHERE zone_name = $1`,
      [zoneName],
    );
    return rows[0] ?? null;
  }

  static async zones(m: EntityManager): Promise<DnssecZoneRow[]> {
    return m.query(`SELECT zone_name AS "zoneName", status, created_at AS "createdAt", updated_at AS "updatedAt" FROM dnssec_zones ORDER BY zone_name`);
  }

  static async insertZone(m: EntityManager, zoneName: string): Promise<void> {
    await m.query(`INSERT INTO dnssec_zones (zone_name, status) VALUES ($1, 'signed')`, [zoneName]);
  }

  static async setStatus(m: EntityManager, zoneName: string, status: DnssecStatus): Promise<void> {
    await m.query(`UPDATE dnssec_zones SET status = $2, updated_at = now() WHERE zone_name = $1`, [zoneName, status]);
  }

  /** Removes the zone's DNSSEC row and (cascade) its keys. */
  static async deleteZone(m: EntityManager, zoneName: string): Promise<void> {
    await m.query(`DELETE FROM dnssec_zones WHERE zone_name = $1`, [zoneName]);
  }

  /** Keys of one zone (all zones when null), oldest first. */
  static async keys(m: EntityManager, zoneName: string | null): Promise<DnssecKeyRow[]> {
    return zoneName === null
      ? m.query(`SELECT ${KEY_COLUMNS} FROM dnssec_keys ORDER BY zone_name, created_at, id`)
      : m.query(`SELECT ${KEY_COLUMNS} FROM dnssec_keys WHERE zone_name = $1 ORDER BY created_at, id`, [zoneName]);
  }

  static async insertKey(
    m: EntityManager,
    key: Omit<DnssecKeyRow, 'createdAt' | 'publishedAt' | 'activeAt' | 'retiredAt'>,
  ): Promise<void> {
    await m.query(
      `INSERT INTO dnssec_keys (id, zone_name, role, algorithm, flags, key_tag, public_key, private_key_sealed, state, active_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $9 = 'active' THEN now() END)`,
      [key.id, key.zoneName, key.role, key.algorithm, key.flags, key.keyTag, key.publicKey, key.privateKeySealed, key.state],
    );
  }

  static async setKeyState(m: EntityManager, id: string, state: DnssecKeyState): Promise<void> {
    await m.query(
      `UPDATE dnssec_keys SET state = $2,
         active_at = CASE WHEN $2 = 'active' THEN now() ELSE active_at END,
         retired_at = CASE WHEN $2 = 'retired' THEN now() ELSE retired_at END
       WHERE id = $1`,
      [id, state],
    );
  }

  /**
   * TTLs that bound how long a rollover waits: the zone's own TTL (DNSKEY, SOA, NS) and the
   * largest TTL of anything signed in the zone (records, service answers, negative answers).
   */
  static async ttls(m: EntityManager, zoneName: string): Promise<{ zoneTtl: number; maxTtl: number }> {
    const rows: { zoneTtl: number; maxTtl: number }[] = await m.query(
      `SELECT z.ttl AS "zoneTtl",
              GREATEST(z.ttl, z.negative_ttl,
                       COALESCE((SELECT max(r.ttl) FROM zone_records r WHERE r.zone_name = z.name), 0),
                       COALESCE((SELECT max(s.ttl) FROM services s WHERE s.zone_name = z.name), 0)) AS "maxTtl"
         FROM zones z WHERE z.name = $1`,
      [zoneName],
    );
    return rows[0] ?? { zoneTtl: 0, maxTtl: 0 };
  }

  static async deleteKey(m: EntityManager, id: string): Promise<void> {
    await m.query(`DELETE FROM dnssec_keys WHERE id = $1`, [id]);
  }
}
