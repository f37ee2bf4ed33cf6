import type { DataSource } from 'typeorm';

/** The ops module's SQL: the readiness round trip. */
export class OpsRepository {
  /** One round trip to the database (resolves when it answered). */
  static async ping(ds: DataSource): Promise<void> {
    await ds.query('SELECT 1');
  }
}
