import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrationsLocked } from '../../src/database/data-source';
import { DatabaseStatus } from '../../src/database/database-status';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { createTestDatabase } from './test-app';

/** A connected DataSource on a fresh, migrated database (DATABASE_URL's server, else embedded PGlite), for repository tests. */
export interface MigratedDatabase {
  readonly ds: DataSource;
  readonly status: DatabaseStatus;
  close(): Promise<void>;
}

export async function openMigratedDatabase(): Promise<MigratedDatabase> {
  const db = await createTestDatabase();
  const embedded = db.env.DATABASE_URL ? null : new EmbeddedPostgres(db.dataDir);
  const url = db.env.DATABASE_URL ?? (await embedded!.start());
  const ds = new DataSource(dataSourceOptions(url, embedded !== null, 'georoute-repository-test'));
  await ds.initialize();
  await runMigrationsLocked(ds, url);
  return {
    ds,
    status: new DatabaseStatus(),
    close: async () => {
      await ds.destroy();
      await embedded?.stop();
      await db.drop();
    },
  };
}
