import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { GeoLocation } from '../routing/types';
import { GeoLocator, type GeoDatabaseInfo } from './geo-locator';

/**
 * Nest face of the locator. The locator itself is opened by an async provider in GeoModule, so
 * by the time anything can inject this service the database is loaded (or start-up has failed).
 */
@Injectable()
export class GeoService implements OnModuleInit {
  private readonly logger = new Logger(GeoService.name);

  constructor(@Inject(GeoLocator) readonly locator: GeoLocator) {}

  onModuleInit(): void {
    for (const db of this.locator.describe()) {
      const memory = db.memory === 'mapped' ? 'mapped read-only: its pages are shared by every process that maps it' : `read into memory: ${db.memoryReason}`;
      this.logger.log(`geo database for ${db.serves}: ${db.path} (${db.databaseType}, ${db.schema} schema, built ${db.buildDate}; ${memory})`);
    }
  }

  /** Synchronous; safe on the DNS hot path. See GeoLocator.locate. */
  locate(ip: string): GeoLocation {
    return this.locator.locate(ip);
  }

  describe(): readonly GeoDatabaseInfo[] {
    return this.locator.describe();
  }

  /** Re-reads the database file(s); keeps the loaded ones if that fails (and rejects). */
  reload(): Promise<void> {
    return this.locator.reload();
  }
}
