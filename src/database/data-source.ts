import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ZoneEntity, RecordEntity } from '../registry/zone.entity';
import { RegionEntity } from '../registry/region.entity';
import { ServiceEntity } from '../registry/service.entity';
import { MIGRATIONS } from '../../migrations';

export const ENTITIES = [ZoneEntity, RecordEntity, RegionEntity, ServiceEntity];

/** TypeORM options for a PostgreSQL URL. `synchronize` is never on: the schema comes from migrations only. */
export function dataSourceOptions(url: string, embedded: boolean, applicationName: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName,
    extra: {
      // One backend behind PGlite: one pooled connection (see embedded-postgres.ts).
      max: embedded ? 1 : 10,
      // Static stability: a request never waits on an unreachable database for more than a few seconds.
      connectionTimeoutMillis: 3000,
      statement_timeout: 4000,
      query_timeout: 4500,
    },
  };
}

/** Advisory lock key for migrations ("georoute" in ASCII, truncated to a bigint). */
const MIGRATION_LOCK = 0x67656f726f757465n;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so that instances starting at once on
 * one empty database queue up: the first migrates, the others find nothing left to do. The lock is
 * held on its own connection (not the pool), so a pool of one connection cannot deadlock on it.
 */
export async function runMigrationsLocked(ds: DataSource, url: string): Promise<string[]> {
  const lock = new Client({ connectionString: url, application_name: 'georoute-migrate-lock' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}
