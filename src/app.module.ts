import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from './config/config';
import { AdminAuthGuard, BearerAuth } from './common/auth.guard';
import { AdminReadCache } from './read-cache';
import { EventBus } from './common/events';
import { ProblemFilter } from './common/problem.filter';
import { ReadYourWritesInterceptor } from './read-your-writes.interceptor';
import { dataSourceOptions, runMigrationsLocked } from './database/data-source';
import { DatabaseStatus } from './database/database-status';
import { isDatabaseUnavailable } from './database/db-errors';
import { connectWithin } from './database/connect';
import { hasSnapshotOnDisk } from './snapshot/snapshot-file';
import { RegistryModule } from './registry/registry.module';
import { RegionHealthReader } from './registry/regions.service';
import { SnapshotModule } from './snapshot/snapshot.module';
import { OpsModule } from './ops/ops.module';
import { GeoModule } from './geo/geo.module';
import type { GeoLocator } from './geo/geo-locator';
import { DnsModule } from './dns/dns.module';
import { RouteModule } from './route/route.module';
import { HealthModule } from './health/health.module';
import { HealthService } from './health/health.service';
import { RedirectModule } from './redirect/redirect.module';
import { ResidencyModule } from './residency/residency.module';
import { AnycastModule } from './anycast/anycast.module';
import { ReplicationModule } from './replication/replication.module';
import { MeasurementsModule } from './measurements/measurements.module';
import { UiModule } from './ui/ui.module';
import { MetricsModule } from './metrics/metrics.module';
import { ClusterModule } from './cluster/cluster.module';
import { TokenVerifier } from './common/scopes';
import { AuditTrail } from './common/audit';
import { AuditModule } from './audit/audit.module';
import { AuditService } from './audit/audit.service';
import { TokensModule } from './tokens/tokens.module';
import { TokensService } from './tokens/tokens.service';

export interface AppModuleOptions {
  config: AppConfig;
  /** The PostgreSQL URL to use (DATABASE_URL, or the embedded server's). */
  databaseUrl: string;
  embedded: boolean;
  /** The geolocation database, when start-up opened it already (preflight). */
  geoLocator?: GeoLocator | null;
}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    const status = new DatabaseStatus();
    return {
      module: AppModule,
      global: true,
      imports: [
        EventEmitterModule.forRoot({ wildcard: false }),
        ScheduleModule.forRoot(),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(opts.databaseUrl, opts.embedded, `georoute:${opts.config.instanceId}`),
            // Retries are connectWithin's (a clear message naming DATABASE_URL), not the module's stack traces.
            retryAttempts: 1,
            toRetry: () => false,
            manualInitialization: true,
          }),
          dataSourceFactory: async (options) => {
            const ds = new DataSource(options!);
            try {
              // With a last good snapshot on disk, one attempt: serving from it beats waiting (static stability).
              const waitMs = opts.embedded || hasSnapshotOnDisk(opts.config.dataDir) ? 0 : opts.config.databaseConnectTimeoutMs;
              await connectWithin(ds, opts.databaseUrl, opts.embedded ? 'the embedded database' : 'DATABASE_URL', waitMs);
              await runMigrationsLocked(ds, opts.databaseUrl);
            } catch (err) {
              // Static stability: with a last good snapshot on disk, start without the database.
              if (!isDatabaseUnavailable(err) || !hasSnapshotOnDisk(opts.config.dataDir)) throw err;
              status.lastError = (err as Error).message;
              status.retryInBackground(ds, () => runMigrationsLocked(ds, opts.databaseUrl));
            }
            return ds;
          },
        }),
        OpsModule,
        MetricsModule,
        SnapshotModule,
        RegistryModule,
        { ...GeoModule.forRoot({ geoipDb: opts.config.geoipDb, opened: opts.geoLocator }), global: true },
        DnsModule,
        RouteModule,
        HealthModule,
        RedirectModule,
        ResidencyModule,
        AnycastModule,
        ReplicationModule,
        MeasurementsModule,
        ClusterModule,
        UiModule,
        TokensModule,
        AuditModule,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: DatabaseStatus, useValue: status },
        EventBus,
        // Ports that lower floors declare and higher ones implement, bound here (not by setters).
        { provide: RegionHealthReader, useExisting: HealthService },
        { provide: TokenVerifier, useExisting: TokensService },
        { provide: AuditTrail, useExisting: AuditService },
        BearerAuth,
        { provide: APP_GUARD, useClass: AdminAuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor },
        AdminReadCache,
        { provide: APP_INTERCEPTOR, useExisting: AdminReadCache },
      ],
      exports: [APP_CONFIG, DatabaseStatus, EventBus, RegionHealthReader, AuditTrail],
    };
  }
}
