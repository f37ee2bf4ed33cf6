/**
 * The classifier must agree with GeoLocator.locate(): same place (through its class) and same
 * prefix length, for random IPv4 and IPv6 clients of the bundled DB-IP database, special ranges,
 * IPv4-mapped addresses, text peers, and MaxMind's GeoIP2 test database (one IPv6 file holding
 * IPv4 under ::/96).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { Reader, type Response } from 'maxmind';
import { GeoLocator } from './geo-locator';
import { GeoClassifier, SearchTree } from './geo-classifier';

const TEST_DB = path.resolve(__dirname, '../../../shared/fixtures/geoip/GeoIP2-City-Test.mmdb');

function expectSame(locator: GeoLocator, classifier: GeoClassifier, id: number, ip: string): void {
  const expected = locator.locate(ip);
  const place = classifier.classes.place(id);
  expect({ ip, found: place.found, country: place.country, continent: place.continent, latitude: place.latitude, longitude: place.longitude, prefixLength: classifier.prefixLength }).toEqual({
    ip,
    found: expected.found,
    country: expected.country,
    continent: expected.continent,
    latitude: expected.latitude,
    longitude: expected.longitude,
    prefixLength: expected.prefixLength,
  });
}

describe('GeoClassifier', () => {
  let bundled: GeoLocator;
  let test: GeoLocator;
  beforeAll(async () => {
    bundled = await GeoLocator.openBundled();
    test = await GeoLocator.open(TEST_DB);
  });

  it('agrees with locate() for random IPv4 octets and text (bundled database)', () => {
    const c = bundled.classifier;
    fc.assert(
      fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), ([a, b, x, d]) => {
        const ip = `${a}.${b}.${x}.${d}`;
        expectSame(bundled, c, c.classifyV4(a, b, x, d), ip);
        expectSame(bundled, c, c.classifyText(ip), ip);
        expect(c.family).toBe(4);
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with locate() through the IPv4 /24 table once fill() has built it (bundled database)', async () => {
    const filled = await GeoLocator.openBundled();
    const c = filled.classifier;
    expect(c.directTable).toBe(false);
    const rssFileKb = async (): Promise<number> => Number(/RssFile:\s+(\d+)/.exec(await fs.readFile('/proc/self/status', 'utf8'))![1]);
    const before = await rssFileKb();
    let steps = 0;
    while (!c.fill(50_000)) steps++;
    expect(steps).toBeGreaterThan(10);
    expect(c.directTable).toBe(true);
    // The fill read every page of the two files (134 MB, a new mapping): the locator released them.
    expect((await rssFileKb()) - before).toBeLessThan(16 << 10);
    fc.assert(
      fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), ([a, b, x, d]) => {
        const ip = `${a}.${b}.${x}.${d}`;
        expectSame(filled, c, c.classifyV4(a, b, x, d), ip);
        expectSame(filled, c, c.classifyText(ip), ip);
      }),
      { numRuns: 5000 },
    );
    // Special ranges (left to locate()), an address just outside one, and /24s split into longer
    // networks (walked: the table holds 0 there) give what locate() gives.
    const ips = ['10.1.2.3', '127.0.0.1', '100.64.1.1', '192.0.2.1', '198.51.100.7', '0.0.0.0', '255.255.255.255', '224.0.0.1', '169.254.1.1', '11.0.0.1', '192.0.3.1'];
    for (const network of splitNetworks(filled, 200)) ips.push(network);
    for (const ip of ips) {
      const [a, b, x, d] = ip.split('.').map(Number);
      expectSame(filled, c, c.classifyV4(a, b, x, d), ip);
    }
  });

  it('agrees with locate() for random IPv6 prefixes as ECS sends them (/32 to /64)', () => {
    const c = bundled.classifier;
    const prefixes = [0x2001, 0x2a00, 0x2a01, 0x2400, 0x2600, 0x2800, 0x2c0f, 0x2002, 0x2001, 0xfe80, 0x0000];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.array(fc.nat(255), { minLength: 14, maxLength: 14 }), fc.integer({ min: 4, max: 8 }), (top, rest, length) => {
        const bytes = [top >> 8, top & 0xff, ...rest].map((v, i) => (i < length ? v : 0));
        const ip = ipaddr.fromByteArray(bytes).toString();
        expectSame(bundled, c, c.classifyV6(bytes, length), ip);
      }),
      { numRuns: 3000 },
    );
  });

  it('passes special ranges, mapped addresses and odd text to locate()', () => {
    const c = bundled.classifier;
    for (const ip of ['10.1.2.3', '127.0.0.1', '100.64.1.1', '192.0.2.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '169.254.1.1']) {
      const [a, b, x, d] = ip.split('.').map(Number);
      expectSame(bundled, c, c.classifyV4(a, b, x, d), ip);
    }
    for (const ip of ['::1', 'fe80::1', '2001:db8::1', '::ffff:81.2.69.160', '64:ff9b::102:304', '2002:5102:45a0::']) {
      expectSame(bundled, c, c.classifyV6(ipaddr.parse(ip).toByteArray(), 16), ip);
    }
    expectSame(bundled, c, c.classifyText('2a01:4f8::1'), '2a01:4f8::1');
    expect(c.family).toBe(6);
    const mapped = c.classifyText('::ffff:81.2.69.160');
    expectSame(bundled, c, mapped, '81.2.69.160');
    expect(c.family).toBe(4);
    expectSame(bundled, c, c.classifyText('not an address'), 'not an address');
    expectSame(bundled, c, c.classifyText('010.1.1.1'), '010.1.1.1');
  });

  it('reads IPv4 under ::/96 of a GeoIP2 IPv6 database', () => {
    const c = test.classifier;
    for (const ip of ['81.2.69.160', '81.2.69.142', '2.2.3.4', '149.101.100.5', '216.160.83.57', '89.160.20.130', '175.16.199.3', '8.8.8.8']) {
      const [a, b, x, d] = ip.split('.').map(Number);
      expectSame(test, c, c.classifyV4(a, b, x, d), ip);
    }
    expectSame(test, c, c.classifyV6(ipaddr.parse('2001:218::').toByteArray(), 6), '2001:218::');
  });

  it('fill() says once that it is over (GeoLocator then releases the files\' pages)', async () => {
    const buffer = await fs.readFile(TEST_DB);
    const tree = new SearchTree(buffer, new Reader<Response>(buffer));
    let calls = 0;
    const c = new GeoClassifier(tree, tree, (ip) => test.locate(ip), () => calls++);
    while (!c.fill(10)) expect(calls).toBe(0);
    expect(calls).toBe(1);
    expect(c.fill(10)).toBe(true);
    expect(calls).toBe(1);
    expectSame(test, c, c.classifyV4(81, 2, 69, 160), '81.2.69.160');
  });

  it('fill() maps every record of a database to a class, in steps', () => {
    const c = test.classifier;
    let steps = 0;
    while (!c.fill(100)) steps++;
    expect(steps).toBeGreaterThan(0);
    const mapped = c.mappedRecords;
    expect(mapped).toBeGreaterThan(10);
    // Nothing new after a full fill: every leaf was seen.
    c.classifyV4(81, 2, 69, 160);
    expect(c.mappedRecords).toBe(mapped);
  });
});

/** Up to `count` addresses of the bundled database's networks longer than /24 (found by locate()). */
function splitNetworks(locator: GeoLocator, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count && i < 2_000_000; i++) {
    const n = (Math.imul(i, 0x9e3779b1) >>> 0) >>> 8;
    const ip = `${n >>> 16}.${(n >> 8) & 255}.${n & 255}.${(i * 37) & 255}`;
    if (locator.locate(ip).prefixLength > 24) out.push(ip);
  }
  expect(out.length).toBe(count);
  return out;
}

describe('SearchTree.decode', () => {
  it('decodes a record afresh on every call, the same record maxmind finds (nothing kept between calls)', async () => {
    const buffer = await fs.readFile(TEST_DB);
    // The locator's reader caches records (GeoLocator: RECORD_CACHE_SIZE); the tree must not use it.
    const cached = new Map<number | string, unknown>();
    const tree = new SearchTree(buffer, new Reader<Response>(buffer, { cache: { get: (k: number | string) => cached.get(k), set: (k: number | string, v: unknown) => void cached.set(k, v) } }));
    // Walk 81.2.69.160 (a GB network of the test database) down to its data pointer.
    const bytes = [81, 2, 69, 160];
    let node = tree.ipv4Start;
    for (let depth = 0; depth < 32 && node < tree.nodeCount; depth++) node = tree.record(node, (bytes[depth >> 3] >> (7 - (depth & 7))) & 1);
    expect(node).toBeGreaterThan(tree.nodeCount);
    const first = tree.decode(node);
    const second = tree.decode(node);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    expect(first).toEqual(new Reader<Response>(buffer).get('81.2.69.160'));
  });
});
