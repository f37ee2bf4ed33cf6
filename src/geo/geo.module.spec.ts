import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as path from 'node:path';
import { GeoLocator } from './geo-locator';
import { GEOIP_OPTIONS, GeoModule } from './geo.module';
import { GeoService } from './geo.service';

const CITY_TEST_DB = path.resolve(__dirname, '../../../shared/fixtures/geoip/GeoIP2-City-Test.mmdb');

function boot(module: DynamicModule) {
  return NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
}

describe('GeoModule', () => {
  it('opens GEOIP_DB before the app is up and serves look-ups', async () => {
    const app = await boot(GeoModule.forRoot({ geoipDb: CITY_TEST_DB }));
    try {
      const geo = app.get(GeoService);
      expect(geo.locate('81.2.69.160')).toMatchObject({ found: true, country: 'GB', continent: 'EU', prefixLength: 27 });
      expect(geo.describe()[0]).toMatchObject({ path: CITY_TEST_DB, databaseType: 'GeoIP2-City' });
      expect(app.get(GeoLocator)).toBe(geo.locator);
    } finally {
      await app.close();
    }
  });

  it('opens the bundled DB-IP pair when GEOIP_DB is not set', async () => {
    const app = await boot(GeoModule.forRoot({ geoipDb: null }));
    try {
      const geo = app.get(GeoService);
      expect(geo.describe().map((db) => db.schema)).toEqual(['dbip', 'dbip']);
      expect(geo.locate('8.8.8.8')).toMatchObject({ found: true, country: 'US', continent: 'NA' });
    } finally {
      await app.close();
    }
  });

  it('takes its options from another module with forRootAsync', async () => {
    @Module({ providers: [{ provide: 'TEST_CONFIG', useValue: { geoipDb: CITY_TEST_DB } }], exports: ['TEST_CONFIG'] })
    class TestConfigModule {}

    const app = await boot(
      GeoModule.forRootAsync({
        imports: [TestConfigModule],
        inject: ['TEST_CONFIG'],
        useFactory: (config: { geoipDb: string }) => ({ geoipDb: config.geoipDb }),
      }),
    );
    try {
      expect(app.get(GEOIP_OPTIONS)).toEqual({ geoipDb: CITY_TEST_DB });
      expect(app.get(GeoService).locate('175.16.199.1').country).toBe('CN');
    } finally {
      await app.close();
    }
  });

  it('fails start-up with a message naming GEOIP_DB when the file is missing', async () => {
    await expect(boot(GeoModule.forRoot({ geoipDb: '/nonexistent/geo.mmdb' }))).rejects.toThrow(
      'Cannot open GEOIP_DB=/nonexistent/geo.mmdb: geo database /nonexistent/geo.mmdb: cannot read (ENOENT',
    );
  });
});
