import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { GeoLocator } from './geo-locator';
import { GeoService } from './geo.service';

/** Injection token for GeoipOptions. */
export const GEOIP_OPTIONS = 'GEOIP_OPTIONS';

export interface GeoipOptions {
  /**
   * GEOIP_DB: one MMDB file holding IPv4 and IPv6 (GeoIP2/GeoLite2 City or Country schema, or the
   * DB-IP schema). null = the bundled DB-IP Lite city pair.
   */
  readonly geoipDb: string | null;
  /** The database already opened (start-up's preflight opened it to check it): used as it is. */
  readonly opened?: GeoLocator | null;
}

export interface GeoModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly useFactory: (...args: any[]) => GeoipOptions | Promise<GeoipOptions>;
  readonly inject?: any[];
}

/** Opens the database while the app starts; a missing or unreadable file stops start-up. */
const locatorProvider = {
  provide: GeoLocator,
  inject: [GEOIP_OPTIONS],
  useFactory: async (options: GeoipOptions): Promise<GeoLocator> => {
    if (options.opened) return options.opened;
    const source = options.geoipDb ?? GeoLocator.bundledFiles();
    try {
      return await GeoLocator.open(source);
    } catch (error) {
      const which = options.geoipDb === null ? 'the bundled DB-IP database' : `GEOIP_DB=${options.geoipDb}`;
      const message = (error as { message?: unknown } | null)?.message;
      const cause = typeof message === 'string' ? message : String(error);
      throw new Error(`Cannot open ${which}: ${cause}`, { cause: error });
    }
  },
};

@Module({})
export class GeoModule {
  static forRoot(options: GeoipOptions): DynamicModule {
    return {
      module: GeoModule,
      providers: [{ provide: GEOIP_OPTIONS, useValue: options }, locatorProvider, GeoService],
      exports: [GeoService, GeoLocator],
    };
  }

  /** For options that come from the configuration module. */
  static forRootAsync(options: GeoModuleAsyncOptions): DynamicModule {
    return {
      module: GeoModule,
      imports: options.imports ?? [],
      providers: [
        { provide: GEOIP_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        locatorProvider,
        GeoService,
      ],
      exports: [GeoService, GeoLocator],
    };
  }
}
