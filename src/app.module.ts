import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from './config/config';
import { AdminAuthGuard } from './common/auth.guard';
import { ProblemFilter } from './common/problem.filter';
import { dataSourceOptions, runMigrationsLocked } from './database/data-source';
import { RegistryModule } from './registry/registry.module';
import { SnapshotModule } from './snapshot/snapshot.module';
import { OpsModule } from './ops/ops.module';
import { GeoModule } from './geo/geo.module';
import { DnsModule } from './dns/dns.module';
import { RouteModule } from './route/route.module';
import { HealthModule } from './health/health.module';
import { RedirectModule } from './redirect/redirect.module';
import { ResidencyModule } from './residency/residency.module';
import { AnycastModule } from './anycast/anycast.module';
import { MetricsModule } from './metrics/metrics.module';

export interface AppModuleOptions {
  config: AppConfig;
  /** The PostgreSQL URL to use (DATABASE_URL, or the embedded server's). */
  databaseUrl: string;
  embedded: boolean;
}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        EventEmitterModule.forRoot({ wildcard: false }),
        ScheduleModule.forRoot(),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(opts.databaseUrl, opts.embedded, `georoute:${opts.config.instanceId}`),
            retryAttempts: 3,
            retryDelay: 1000,
          }),
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options!).initialize();
            await runMigrationsLocked(ds, opts.databaseUrl);
            return ds;
          },
        }),
        OpsModule,
        MetricsModule,
        SnapshotModule,
        RegistryModule,
        { ...GeoModule.forRoot({ geoipDb: opts.config.geoipDb }), global: true },
        DnsModule,
        RouteModule,
        HealthModule,
        RedirectModule,
        ResidencyModule,
        AnycastModule,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: APP_GUARD, useClass: AdminAuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
      exports: [APP_CONFIG],
    };
  }
}
