import * as http from 'node:http';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/browser';
import { waitFor } from './support/dns-client';
import { createTestDatabase, startTestApp, TestApp, TestDatabase, TEST_TOKEN } from './support/test-app';

/** A local HTTP server; `handler` answers every request. */
async function serve(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * The RUM beacon in a real browser (headless Chromium): a page on another origin embeds
 * /beacon.js with a service's key; the beacon times the two local "regions" (one answers after
 * 150 ms, one at once) and posts the results; georoute stores them per client /24.
 */
describe('RUM beacon in Chromium', () => {
  let db: TestDatabase;
  let app: TestApp;
  let browser: Browser;
  const servers: http.Server[] = [];
  const probes: Record<string, string[]> = { slow: [], fast: [] };
  let pagePort = 0;
  let key = '';

  beforeAll(async () => {
    browser = await launchChromium();
    db = await createTestDatabase();
    // One page view is enough evidence here (the trust rules have their own tests): the dashboard shows it.
    app = await startTestApp(db, { CONFIG_FILE: '', LATENCY_MIN_SAMPLES: '1', LATENCY_MIN_SOURCES: '1', LATENCY_COMPILE_INTERVAL_MS: '200' });
    const region = (name: 'slow' | 'fast', delayMs: number) =>
      serve((req, res) => {
        probes[name].push(req.url ?? '');
        setTimeout(() => res.writeHead(204, { 'Timing-Allow-Origin': '*', 'Cache-Control': 'no-store' }).end(), delayMs);
      });
    const slow = await region('slow', 150);
    const fast = await region('fast', 0);
    servers.push(slow.server, fast.server);
    for (const [name, port, lat] of [['beacon-slow', slow.port, 50.1], ['beacon-fast', fast.port, 52.5]] as const) {
      const res = await app.api('post', '/v1/regions', { name, countryCode: 'DE', location: { latitude: lat, longitude: 8.7 }, endpoints: { ipv4: ['192.0.2.91'], baseUrl: `http://127.0.0.1:${port}` } });
      expect(res.status).toBe(201);
    }
    expect((await app.api('post', '/v1/services', { fqdn: 'rum.example.com', policy: 'latency', regions: ['beacon-slow', 'beacon-fast'], residency: 'none' })).status).toBe(201);
    const made = await app.api('post', '/v1/measurements/beacon-keys', { service: 'rum.example.com', probePath: '/probe', sampleRate: 0.01 });
    expect(made.status).toBe(201);
    key = made.body.key;
    const page = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>shop</title><p>a customer page</p><script src="http://127.0.0.1:${app.httpPort}/beacon.js" data-key="${key}" data-always async></script>`);
    });
    servers.push(page.server);
    pagePort = page.port;
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
    await app?.stop();
    await db?.drop();
  });

  it('serves a small, cacheable, cross-origin script', async () => {
    const res = await app.http.get('/beacon.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(res.text.length).toBeLessThan(5000);
    expect(res.text).not.toMatch(/\brequire\(|\bimport\b/);
    const config = await app.http.get(`/v1/measurements/beacon?key=${key}`);
    expect(config.headers['access-control-allow-origin']).toBe('*');
    expect(config.body.targets.map((t: { region: string; url: string }) => t.url.replace(/\d+/g, 'N'))).toEqual(['http://N.N.N.N:N/probe', 'http://N.N.N.N:N/probe']);
  });

  it('times each region from a page on another origin and reports per client /24, never the address', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://localhost:${pagePort}/`);
    const rows = await waitFor('the beacon\'s samples', async () => {
      const r = (await app.ds.query("SELECT * FROM latency_samples WHERE origin = 'beacon' ORDER BY region")) as Record<string, unknown>[];
      return r.length >= 2 ? r : undefined;
    }, 15000, 100);
    await context.close();
    expect(errors).toEqual([]);
    const byRegion = Object.fromEntries(rows.map((r) => [r.region as string, r]));
    expect(Object.keys(byRegion)).toEqual(['beacon-fast', 'beacon-slow']);
    const slow = Number(byRegion['beacon-slow'].rtt_ms);
    const fast = Number(byRegion['beacon-fast'].rtt_ms);
    expect(slow).toBeGreaterThanOrEqual(140);
    expect(fast).toBeLessThan(slow - 100);
    expect(rows.map((r) => [Number(r.family), Number(r.network), r.source_net])).toEqual([[4, 127 * 65536, 'net:127.0.0.0/24'], [4, 127 * 65536, 'net:127.0.0.0/24']]);
    expect(JSON.stringify(rows)).not.toContain('127.0.0.1');
    // A warm-up fetch, then the timed one, to each region.
    expect(probes.slow.length).toBe(2);
    expect(probes.fast.length).toBe(2);
    expect(probes.slow[1]).toMatch(/^\/probe\?georoute=/);
    const summary = await app.api('get', '/v1/measurements/summary?service=rum.example.com');
    expect(summary.body.regions.map((r: { region: string; samples: number }) => [r.region, r.samples])).toEqual([['beacon-slow', 1], ['beacon-fast', 1]]);
  });

  it('the evidence routes the page\'s network, and the dashboard shows it per candidate', async () => {
    const explain = await waitFor('compiled evidence', async () => {
      const res = await app.api('get', '/v1/route?fqdn=rum.example.com&client=127.0.0.1');
      return res.body.reason === 'lowest-latency' ? res.body : undefined;
    }, 10000, 100);
    expect(explain.answer.regions).toEqual(['beacon-fast']);
    expect(explain.candidates.map((c: { region: string; latency: { level: string } }) => [c.region, c.latency.level])).toEqual([['beacon-fast', '/24'], ['beacon-slow', '/24']]);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${app.httpPort}/ui`);
    await page.getByLabel('Token', { exact: true }).fill(TEST_TOKEN);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await page.getByLabel('Client IP address', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Service', { exact: true }).selectOption('rum.example.com');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.locator('[data-testid="route-reason"]', { hasText: 'lowest-latency' }).waitFor();
    const cells = await page.locator('[data-testid="candidate-latency"]').allTextContents();
    await context.close();
    expect(cells).toHaveLength(2);
    expect(cells[0]).toMatch(/^\d+(\.\d)? ms · 1 samples, 1 sources · \/24$/);
    expect(cells[1]).toMatch(/ms · 1 samples, 1 sources · \/24$/);
  });

  it('refuses results without a valid key or for regions outside the service, storing nothing', async () => {
    const before = (await app.ds.query('SELECT count(*) AS n FROM latency_samples'))[0].n;
    const post = (body: string) => app.http.post('/v1/measurements/beacon').set('Content-Type', 'text/plain').send(body);
    const badKey = await post(JSON.stringify({ key: 'bk_wrong', results: [{ region: 'beacon-fast', rttMs: 3 }] }));
    expect([badKey.status, badKey.headers['access-control-allow-origin']]).toEqual([403, '*']);
    const outside = await post(JSON.stringify({ key, results: [{ region: 'eu-west-1', rttMs: 3 }] }));
    expect(outside.status).toBe(400);
    expect(outside.body.detail).toContain('must be a region of service rum.example.com');
    expect((await post(JSON.stringify({ key, results: [] }))).status).toBe(400);
    expect((await app.ds.query('SELECT count(*) AS n FROM latency_samples'))[0].n).toBe(before);
  });
});
