import { createTestDatabase, startTestApp, TestApp, TestDatabase, MAXMIND_TEST_DB } from './support/test-app';
import { addresses, dig, query, rcodeOf } from './support/dns-client';
import { SnapshotStore } from '../src/snapshot/snapshot.store';
import { DnsService } from '../src/dns/dns.service';

/** The product's promise, end to end: demo configuration, bundled geo database, real sockets, real dig. */
describe('GeoDNS with the demo configuration and the bundled database', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', INSTANCE_ID: 'geodns-e2e-1' });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('says which instance answered: NSID (INSTANCE_ID by default), CHAOS id.server; version.bind hidden', async () => {
    const out = await dig(app.dnsPort, ['app.example.com', '+subnet=81.2.69.0/24', '+nsid']);
    expect(out).toContain('("geodns-e2e-1")');
    expect(out).toMatch(/CLIENT-SUBNET: 81\.2\.69\.0\/24\/\d+/);
    expect(await dig(app.dnsPort, ['+short', 'CH', 'TXT', 'id.server'])).toBe('"geodns-e2e-1"\n');
    expect(await dig(app.dnsPort, ['+short', 'CH', 'TXT', 'hostname.bind'])).toBe('"geodns-e2e-1"\n');
    expect(await dig(app.dnsPort, ['CH', 'TXT', 'version.bind'])).toMatch(/status: REFUSED/);
  });

  it('sends a London subnet to eu-west-1 with AA, TTL 30 and the ECS option echoed with a scope (dig)', async () => {
    const out = await dig(app.dnsPort, ['app.example.com', '+subnet=81.2.69.0/24']);
    expect(out).toMatch(/status: NOERROR/);
    expect(out).toMatch(/flags: qr aa rd;/);
    expect(out).toMatch(/app\.example\.com\.\s+30\s+IN\s+A\s+198\.51\.100\.10/);
    expect(out).toMatch(/CLIENT-SUBNET: 81\.2\.69\.0\/24\/(\d+)/);
    const scope = Number(/CLIENT-SUBNET: 81\.2\.69\.0\/24\/(\d+)/.exec(out)![1]);
    expect(scope).toBeGreaterThan(0);
  });

  it('sends a Tokyo subnet to ap-northeast-1 and a São Paulo one to sa-east-1', async () => {
    expect(await dig(app.dnsPort, ['+short', 'app.example.com', '+subnet=133.242.0.0/24'])).toBe('203.0.113.10\n');
    expect(await dig(app.dnsPort, ['+short', 'cdn.example.com', '+subnet=200.160.2.0/24'])).toBe('203.0.113.20\n');
  });

  it('answers NXDOMAIN with the SOA for a name that does not exist', async () => {
    const out = await dig(app.dnsPort, ['nope.example.com']);
    expect(out).toMatch(/status: NXDOMAIN/);
    expect(out).toMatch(/flags: qr aa rd;/);
    expect(out).toMatch(/AUTHORITY SECTION:\nexample\.com\.\s+300\s+IN\s+SOA\s+ns1\.example\.com\. hostmaster\.example\.com\. \d+ 3600 600 604800 300/);
  });

  it('answers AAAA from IPv6 endpoints, and the same over TCP as over UDP', async () => {
    const udp = await query(app.dnsPort, 'app.example.com', 'AAAA', { subnet: '133.242.0.0/24' });
    const tcp = await query(app.dnsPort, 'app.example.com', 'AAAA', { subnet: '133.242.0.0/24', tcp: true });
    expect(addresses(udp)).toEqual(['2001:db8:5::10']);
    expect(addresses(tcp)).toEqual(addresses(udp));
  });

  it('serves static records and refuses names outside its zones', async () => {
    expect(await dig(app.dnsPort, ['+short', 'ns1.example.com'])).toBe('192.0.2.53\n');
    expect(await dig(app.dnsPort, ['+short', 'www.example.com', 'CNAME'])).toBe('app.example.com.\n');
    expect(rcodeOf(await query(app.dnsPort, 'example.org', 'A'))).toBe('REFUSED');
  });

  it('the explain API gives the same region and addresses as DNS for the same client', async () => {
    for (const ip of ['81.2.69.0', '133.242.0.0', '8.8.8.0', '200.160.2.0', '193.99.144.0', '41.203.64.0']) {
      for (const fqdn of ['app.example.com', 'cdn.example.com']) {
        const explain = await app.api('get', `/v1/route?fqdn=${fqdn}&client=${ip}`);
        expect(explain.status).toBe(200);
        const dns = await query(app.dnsPort, fqdn, 'A', { subnet: `${ip}/24` });
        expect(addresses(dns)).toEqual(explain.body.answer.addresses);
        expect(explain.body.client.ip).toBe(`${ip.split('.').slice(0, 3).join('.')}.0/24`);
        expect(explain.body.candidates.length).toBeGreaterThan(1);
        expect(typeof explain.body.reason).toBe('string');
      }
    }
  });

  it('puts a change accepted by the API into DNS answers within 100 ms', async () => {
    const before = addresses(await query(app.dnsPort, 'cdn.example.com', 'A', { subnet: '133.242.0.0/24' }));
    expect(before).toEqual(['203.0.113.10']);
    const res = await app.api('patch', '/v1/regions/ap-northeast-1', { drained: true });
    expect(res.status).toBe(200);
    const t0 = Date.now();
    let now: string[] = before;
    while (Date.now() - t0 < 1000) {
      now = addresses(await query(app.dnsPort, 'cdn.example.com', 'A', { subnet: '133.242.0.0/24' }));
      if (now[0] !== '203.0.113.10') break;
    }
    const elapsed = Date.now() - t0;
    expect(now).not.toEqual(before);
    expect(elapsed).toBeLessThan(100);
    expect((await app.api('patch', '/v1/regions/ap-northeast-1', { drained: false })).status).toBe(200);
  });

  it('keeps every region id through a drain: the DNS view and the region ranking are reused', async () => {
    const store = app.running.app.get(SnapshotStore);
    const responder = app.running.app.get(DnsService).responder;
    await query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.0/24' });
    const ids = [...store.current().regions.keys()];
    // The first region: an UPDATE puts its row's new version after the others in the table.
    const region = ids[0];
    for (const drained of [true, false]) {
      const before = responder.stats();
      expect(before.rankedClasses).toBeGreaterThan(0);
      expect((await app.api('patch', `/v1/regions/${region}`, { drained })).status).toBe(200);
      await store.settled();
      expect([...store.current().regions.keys()]).toEqual(ids);
      expect(store.current().regions.get(region)!.drained).toBe(drained);
      const after = responder.stats();
      expect(after.snapshotVersion).toBeGreaterThan(before.snapshotVersion);
      // No new DNS view and no new ranking (a new ranking starts with no row computed). A health
      // update arriving during the rebuild is a snapshot of its own, so reuses count at least one.
      expect(after.viewBuilds).toBe(before.viewBuilds);
      expect(after.viewReuses).toBeGreaterThan(before.viewReuses);
      expect(after.rankedClasses).toBeGreaterThanOrEqual(before.rankedClasses);
    }
  });
});

describe('GeoDNS with MaxMind GeoIP2 (GEOIP_DB)', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', GEOIP_DB: MAXMIND_TEST_DB });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('locates clients with the GeoIP2 schema', async () => {
    expect(addresses(await query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.160/27' }))).toEqual(['198.51.100.10']);
    expect(addresses(await query(app.dnsPort, 'cdn.example.com', 'A', { subnet: '175.16.199.0/24' }))).toEqual(['203.0.113.10']);
    expect(addresses(await query(app.dnsPort, 'cdn.example.com', 'A', { subnet: '216.160.83.56/29' }))).toEqual(['192.0.2.20']);
    const explain = await app.api('get', '/v1/route?fqdn=cdn.example.com&client=89.160.20.129');
    expect(explain.body.client).toMatchObject({ country: 'SE', continent: 'EU', jurisdiction: 'EU' });
    expect(explain.body.answer.region).toBe('eu-central-1');
  });
});
