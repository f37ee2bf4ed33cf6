import { continentOfCountry, decodeGeoRecord, recordSchema } from './geo-record';

describe('decodeGeoRecord', () => {
  it.each([
    [
      'GeoIP2: country, continent and location from the record',
      { country: { iso_code: 'GB' }, registered_country: { iso_code: 'US' }, continent: { code: 'EU' }, location: { latitude: 51.5142, longitude: -0.0931 } },
      { country: 'GB', continent: 'EU', latitude: 51.5142, longitude: -0.0931 },
    ],
    [
      'GeoIP2: registered_country when only the registration is known; continent from countries-list',
      { registered_country: { iso_code: 'DE' } },
      { country: 'DE', continent: 'EU', latitude: null, longitude: null },
    ],
    [
      'GeoIP2: the continent in the record wins over the derived one',
      { country: { iso_code: 'RU' }, continent: { code: 'AS' } },
      { country: 'RU', continent: 'AS', latitude: null, longitude: null },
    ],
    [
      'GeoIP2: continent only (e.g. an EU-wide block)',
      { continent: { code: 'EU' }, location: { latitude: 48.69096, longitude: 9.14062 } },
      { country: null, continent: 'EU', latitude: 48.69096, longitude: 9.14062 },
    ],
    [
      'GeoIP2: lower-case ISO code is upper-cased',
      { country: { iso_code: 'jp' } },
      { country: 'JP', continent: 'AS', latitude: null, longitude: null },
    ],
    [
      'DB-IP: flat record, continent derived, float32 coordinates shown at float32 precision',
      { country_code: 'US', city: 'Mountain View', latitude: Math.fround(37.422), longitude: Math.fround(-122.085), state1: '', timezone: '' },
      { country: 'US', continent: 'NA', latitude: 37.422, longitude: -122.085 },
    ],
    [
      'DB-IP: Antarctica',
      { country_code: 'AQ', latitude: Math.fround(-75.25), longitude: Math.fround(-0.07) },
      { country: 'AQ', continent: 'AN', latitude: -75.25, longitude: -0.07 },
    ],
    [
      'DB-IP: the unknown code ZZ is no country, coordinates kept',
      { country_code: 'ZZ', latitude: 1.5, longitude: 2.5 },
      { country: null, continent: null, latitude: 1.5, longitude: 2.5 },
    ],
    [
      'coordinates out of range are dropped (both)',
      { country: { iso_code: 'FR' }, location: { latitude: 91, longitude: 2 } },
      { country: 'FR', continent: 'EU', latitude: null, longitude: null },
    ],
  ])('%s', (_name, record, expected) => {
    expect(decodeGeoRecord(record)).toEqual(expected);
  });

  it.each([
    ['null', null],
    ['an empty GeoIP2-shaped record', { continent: {}, country: {} }],
    ['an ASN record', { autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' }],
    ['a DB-IP record with no country and no coordinates', { country_code: '', city: '' }],
    ['a string', 'GB'],
  ])('returns null for %s', (_name, record) => {
    expect(decodeGeoRecord(record)).toBeNull();
  });
});

describe('recordSchema', () => {
  it('tells the two shapes apart', () => {
    expect(recordSchema({ country_code: 'DE', latitude: 1, longitude: 2 })).toBe('dbip');
    expect(recordSchema({ country: { iso_code: 'DE' } })).toBe('geoip2');
    expect(recordSchema({ autonomous_system_number: 1 })).toBeNull();
  });
});

describe('continentOfCountry', () => {
  it.each([
    ['US', 'NA'],
    ['BR', 'SA'],
    ['DE', 'EU'],
    ['JP', 'AS'],
    ['AU', 'OC'],
    ['NG', 'AF'],
    ['AQ', 'AN'],
    ['XK', 'EU'],
    ['QQ', null],
    [null, null],
  ])('%s -> %s', (country, continent) => {
    expect(continentOfCountry(country)).toBe(continent);
  });
});
