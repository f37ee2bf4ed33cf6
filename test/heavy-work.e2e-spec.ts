import { createTestDatabase, dumpRegistry, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { query, waitFor } from './support/dns-client';

// Heavy admin work (config apply and its dry run, zone import, zone export) runs one at a time
// with two more waiting; a request beyond that is 429 with Retry-After and changes nothing.
describe('heavy admin work: a limit, 429 when busy, DNS answered meanwhile', () => {
  let db: TestDatabase;
  let app: TestApp;
  const big = (n: number) => ({
    zones: [{ name: 'heavy.test', nameservers: ['ns1.heavy.test'], hostmaster: 'hostmaster.heavy.test' }],
    regions: [
      { name: 'r-one', countryCode: 'US', location: { latitude: 40, longitude: -75 }, endpoints: { ipv4: ['192.0.2.1'] } },
      { name: 'r-two', countryCode: 'DE', location: { latitude: 50, longitude: 8 }, endpoints: { ipv4: ['192.0.2.2'] } },
    ],
    services: Array.from({ length: n }, (_, i) => ({ fqdn: `s${i}.heavy.test`, policy: 'proximity', regions: ['r-one', 'r-two'], residency: 'none' })),
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('five concurrent dry runs of a 3,000-service document: three run in turn, two get 429 with Retry-After; DNS answers throughout', async () => {
    const before = await dumpRegistry(app.ds);
    const doc = big(3000);
    let dnsAnswers = 0;
    let stop = false;
    const dns = (async () => {
      while (!stop) {
        await query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.0/24' });
        dnsAnswers++;
      }
    })();
    const results = await Promise.all(Array.from({ length: 5 }, () => app.api('post', '/v1/config/apply?dryRun=true', doc)));
    stop = true;
    await dns;
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.headers['retry-after']).toBe('2');
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.body.detail).toContain('config apply (dry run)');
    }
    for (const r of results.filter((x) => x.status === 200)) expect(r.body.changes.length).toBe(3000 + 3);
    // The validation yields to the event loop: DNS kept answering while the documents were checked.
    expect(dnsAnswers).toBeGreaterThan(5);
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });

  it('the limit frees itself: a request after the burst is served', async () => {
    await waitFor('a free slot', async () => (await app.api('post', '/v1/config/apply?dryRun=true', big(10))).status === 200, 5000, 50);
    const res = await app.api('get', '/v1/zones/example.com/export');
    expect(res.status).toBe(200);
    expect(res.text).toContain('$ORIGIN example.com.');
  });
});
