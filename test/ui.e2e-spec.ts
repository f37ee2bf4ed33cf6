import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { signWebhook } from '../src/health/webhook-verifier';
import { launchChromium } from './support/browser';
import { dig } from './support/dns-client';
import { createTestDatabase, REPO_ROOT, startTestApp, TEST_TOKEN, TestApp, TestDatabase } from './support/test-app';

// Callbacks given to page.evaluate/waitForFunction run in the browser. The project compiles
// without the DOM library, so the few browser globals they use are declared here, for this file.
interface BrowserElement {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): { readonly length: number };
  readonly textContent: string | null;
}
interface SvgBox { x: number; y: number; width: number; height: number }
interface SvgText extends BrowserElement {
  getBBox(): SvgBox;
  readonly ownerSVGElement: { readonly viewBox: { readonly baseVal: SvgBox } };
}
declare const document: {
  querySelector(selector: string): BrowserElement | null;
  querySelectorAll(selector: string): { readonly length: number };
  readonly cookie: string;
};
declare const getComputedStyle: (element: BrowserElement) => { readonly fill: string };
declare const sessionStorage: { getItem(key: string): string | null };
declare const localStorage: { readonly length: number };
declare const location: { readonly href: string };

/** "2026-12-06 01:45:26 +00:00": a date, a time and the UTC offset. */
const ZONED_TIME = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d/;

/** Screenshots for people to look at (gitignored). */
const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const SECRET = 'whsec_' + Buffer.from('dashboard-test-webhook-secret-0123').toString('base64');
const DEMO_REGIONS = ['ap-northeast-1', 'eu-central-1', 'eu-west-1', 'sa-east-1', 'us-east-1', 'us-west-2'];
const GREEN = 'rgb(26, 152, 80)';
const RED = 'rgb(215, 48, 39)';
const GREY = 'rgb(138, 143, 152)';

/** A small located AS topology: three tier-1s that peer, each with a transit and access networks. */
const TOPOLOGY = {
  ases: [
    { asn: 1, latitude: 40.7, longitude: -74 }, { asn: 2, latitude: 50.1, longitude: 8.7 }, { asn: 3, latitude: 35.7, longitude: 139.7 },
    { asn: 10, latitude: 39, longitude: -77.5 }, { asn: 11, latitude: 34, longitude: -118.2 }, { asn: 12, latitude: 41.9, longitude: -87.6 },
    { asn: 13, latitude: -23.5, longitude: -46.6 }, { asn: 20, latitude: 53.3, longitude: -6.3 }, { asn: 21, latitude: 51.5, longitude: -0.1 },
    { asn: 22, latitude: 52.5, longitude: 13.4 }, { asn: 23, latitude: 48.9, longitude: 2.35 }, { asn: 30, latitude: 35.7, longitude: 139.7 },
    { asn: 31, latitude: 37.6, longitude: 127 }, { asn: 32, latitude: 1.35, longitude: 103.8 },
  ],
  links: [
    { a: 1, b: 2, relation: 'peer' }, { a: 2, b: 3, relation: 'peer' }, { a: 1, b: 3, relation: 'peer' },
    ...[[1, 10], [10, 11], [10, 12], [1, 13], [2, 20], [20, 21], [20, 22], [2, 23], [3, 30], [30, 31], [3, 32]].map(([a, b]) => ({ a, b, relation: 'provider-customer' })),
  ],
};

describe('dashboard at /ui in headless Chromium', () => {
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let db: TestDatabase | undefined;
  let app: TestApp | undefined;
  const consoleErrors: string[] = [];
  const onConsole = (p: Page) => {
    p.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    p.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  };

  const webhook = async (region: string, status: 'healthy' | 'unhealthy', reason: string) => {
    const raw = JSON.stringify({ region, status, reason });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const res = await app!.http
      .post('/v1/health/webhook')
      .set({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, id, ts, raw) })
      .send(raw);
    expect([res.status, res.body]).toEqual([202, expect.objectContaining({ accepted: true, status })]);
  };
  const patchRegion = async (name: string, body: object) => {
    const res = await app!.api('patch', `/v1/regions/${name}`, body);
    expect([res.status, res.body]).toEqual([200, expect.anything()]);
  };
  const region = (name: string) => page.locator(`[data-testid="map-region"][data-region="${name}"]`);
  const dotFill = (name: string) => region(name).locator('.dot').evaluate((el) => getComputedStyle(el).fill);
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium(); // first: a missing Chromium fails the suite with the install hint
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' }); // the demo configuration: six regions, two services
    // Before the page opens: five regions report healthy, sa-east-1 stays unknown, us-west-2 is drained.
    for (const name of DEMO_REGIONS) await patchRegion(name, { webhookSecret: SECRET });
    for (const name of DEMO_REGIONS.filter((n) => n !== 'sa-east-1')) await webhook(name, 'healthy', 'deploy finished');
    await patchRegion('us-west-2', { drained: true });

    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light', locale: 'en-GB', timezoneId: 'UTC' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    onConsole(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await db?.drop();
  });

  it('serves the page without a token, from the repository, with a strict CSP', async () => {
    for (const url of ['/ui', '/ui/']) {
      const res = await app!.http.get(url);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      // Every script is an external file from this origin; no inline handlers or style attributes.
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(res.text).not.toMatch(/\son[a-z]+=|\sstyle=/i);
      expect(res.text).not.toMatch(/https?:\/\//);
    }
    const types: Record<string, string> = { 'app.js': 'text/javascript', 'map.js': 'text/javascript', 'style.css': 'text/css', 'icon.svg': 'image/svg+xml' };
    for (const [file, type] of Object.entries(types)) {
      const res = await app!.http.get(`/ui/${file}`);
      expect([file, res.status, res.headers['content-type']?.split(';')[0]]).toEqual([file, 200, type]);
    }
    // The map's libraries and data: four named files from node_modules, same origin, same headers.
    const vendor: Record<string, string> = { 'd3-array.min.js': 'text/javascript', 'd3-geo.min.js': 'text/javascript', 'topojson-client.min.js': 'text/javascript', 'countries-110m.json': 'application/json' };
    for (const [file, type] of Object.entries(vendor)) {
      const res = await app!.http.get(`/ui/${file}`).buffer(true);
      expect([file, res.status, res.headers['content-type']?.split(';')[0], res.headers['content-security-policy']]).toEqual([file, 200, type, expect.stringContaining("script-src 'self'")]);
    }
    const html = (await app!.http.get('/ui')).text;
    for (const file of ['d3-array.min.js', 'd3-geo.min.js', 'topojson-client.min.js']) expect(html).toContain(`<script src="/ui/${file}"></script>`);
    for (const bad of ['/ui/d3-geo.js', '/ui/d3-geo.min.mjs', '/ui/countries-50m.json', '/ui/land-110m.json', '/ui/constructor', '/ui/__proto__']) {
      expect([bad, (await app!.http.get(bad)).status]).toEqual([bad, 404]);
    }
    for (const bad of ['/ui/nope.js', '/ui/..%2Fpackage.json', '/ui/.env', '/ui/ui.controller.ts', '/ui/public/app.js']) {
      expect([bad, (await app!.http.get(bad)).status]).toEqual([bad, 404]);
    }
    expect((await app!.http.get('/v1/events/stream')).status).toBe(401);
  });

  it('asks for the token, says clearly when it is wrong, and keeps it in sessionStorage only', async () => {
    await page.goto(`http://127.0.0.1:${app!.httpPort}/ui`);
    await page.getByLabel('Token', { exact: true }).fill('not-the-admin-token-at-all');
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await expectText(page, '[data-testid="login-error"]', /401 Unauthorized/);
    expect(await page.locator('#dashboard').isHidden()).toBe(true);

    await page.getByLabel('Token', { exact: true }).fill(TEST_TOKEN);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem('georoute.adminToken'),
      local: localStorage.length,
      cookie: document.cookie,
      url: location.href,
    }));
    expect(storage).toEqual({ session: TEST_TOKEN, local: 0, cookie: '', url: expect.not.stringContaining(TEST_TOKEN) });
  });

  it('shows the six regions at their places, coloured by health, with services and live updates', async () => {
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map-region"]').length === 6);
    const regions = await page.locator('[data-testid="map-region"]').evaluateAll((els) =>
      els.map((el) => ({ name: el.getAttribute('data-region'), status: el.getAttribute('data-status'), drained: el.getAttribute('data-drained') })));
    expect(regions.map((r) => r.name).sort()).toEqual(DEMO_REGIONS);
    const byName = Object.fromEntries(regions.map((r) => [r.name, r]));
    expect(byName['eu-west-1']).toEqual({ name: 'eu-west-1', status: 'healthy', drained: 'false' });
    expect(byName['sa-east-1']).toMatchObject({ status: 'unknown' });
    expect(byName['us-west-2']).toMatchObject({ status: 'healthy', drained: 'true' });
    expect(await dotFill('eu-west-1')).toBe(GREEN);
    expect(await dotFill('sa-east-1')).toBe(GREY);

    // Placed by coordinates: Tokyo east of Dublin east of Virginia; São Paulo south of them all.
    const box = async (name: string) => (await region(name).locator('.dot').boundingBox())!;
    const [tokyo, dublin, virginia, saoPaulo] = await Promise.all(['ap-northeast-1', 'eu-west-1', 'us-east-1', 'sa-east-1'].map(box));
    expect(tokyo.x).toBeGreaterThan(dublin.x);
    expect(dublin.x).toBeGreaterThan(virginia.x);
    expect(saoPaulo.y).toBeGreaterThan(virginia.y);

    const services = await page.locator('[data-testid="service-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-fqdn')));
    expect(services).toEqual(['app.example.com', 'cdn.example.com']);
    await expectText(page, '[data-testid="service-row"][data-fqdn="app.example.com"]', /proximity.*GDPR.*eu-west-1/s);
    await expectText(page, '[data-testid="events"]', /eu-west-1.*healthy.*webhook/s);
    await page.waitForSelector('[data-testid="live-status"][data-mode="stream"]');
    await expectText(page, '[data-testid="anycast"]', /No topology loaded/);
  });

  it('explains where 81.2.69.160 goes for app.example.com', async () => {
    await page.getByLabel('Client IP address', { exact: true }).fill('81.2.69.160');
    await page.getByLabel('Service', { exact: true }).selectOption('app.example.com');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expectText(page, '[data-testid="route-reason"]', /^nearest-healthy$/);
    expect(await page.locator('[data-testid="route-region"]').textContent()).toBe('eu-west-1');
    const candidates = await page.locator('[data-testid="candidate"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-region')));
    expect(candidates).toHaveLength(6);
    expect(candidates[0]).toBe('eu-west-1');
    expect(await page.locator('[data-testid="candidate"].chosen').getAttribute('data-region')).toBe('eu-west-1');
    await expectText(page, '[data-testid="candidates"]', /\d+ km/);
    expect(await page.locator('[data-testid="map-client"]').count()).toBe(1);

    await page.getByLabel('Client IP address', { exact: true }).fill('not-an-ip');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expectText(page, '[data-testid="route-error"]', /client/i);
    await page.getByLabel('Client IP address', { exact: true }).fill('81.2.69.160');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expectText(page, '[data-testid="route-reason"]', /^nearest-healthy$/);
  });

  it('shows anycast catchments once a topology is loaded', async () => {
    const put = await app!.api('put', '/v1/anycast/topology').set('Content-Type', 'application/json').send(JSON.stringify(TOPOLOGY));
    expect(put.status).toBe(200);
    await patchRegion('us-east-1', { anycast: { originAsn: 64500, upstreams: [10] } });
    await patchRegion('eu-west-1', { anycast: { originAsn: 64500, upstreams: [20] } });
    await patchRegion('ap-northeast-1', { anycast: { originAsn: 64500, upstreams: [30] } });
    // The registry changes arrive over the event stream; the panel re-reads the simulation.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="catchment"]').length === 3, undefined, { timeout: 5000 });
    await expectText(page, '[data-testid="catchment"][data-region="eu-west-1"]', /\d+ %/);
    await shot('dashboard.png');
  });

  it('turns eu-west-1 red within seconds of a signed unhealthy webhook', async () => {
    expect(await region('eu-west-1').getAttribute('data-status')).toBe('healthy');
    const started = Date.now();
    await webhook('eu-west-1', 'unhealthy', 'database failover in progress');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="map-region"][data-region="eu-west-1"]')?.getAttribute('data-status') === 'unhealthy',
      undefined,
      { timeout: 5000, polling: 50 },
    );
    const seenAfterMs = Date.now() - started;
    expect(seenAfterMs).toBeLessThan(5000);
    await page.waitForFunction(() => {
      const dot = document.querySelector('[data-testid="map-region"][data-region="eu-west-1"] .dot');
      return dot !== null && getComputedStyle(dot).fill === 'rgb(215, 48, 39)';
    }, undefined, { timeout: 2000 });
    expect(await dotFill('eu-west-1')).toBe(RED);
    expect(await dotFill('eu-central-1')).toBe(GREEN);
    await expectText(page, '[data-testid="region-row"][data-region="eu-west-1"]', /unhealthy.*database failover in progress/s);
    await expectText(page, '[data-testid="event"]:first-child', /eu-west-1.*healthy.*unhealthy.*webhook.*database failover in progress/s);
    await page.waitForSelector('[data-testid="catchment"][data-region="eu-west-1"][data-announced="false"]', { timeout: 5000 });

    // The same client now goes to the next nearest healthy region.
    await page.getByRole('button', { name: 'Explain' }).click();
    await expectText(page, '[data-testid="route-region"]', /^eu-central-1$/);
    await expectText(page, '[data-testid="candidate"][data-region="eu-west-1"]', /no/);
    await region('eu-west-1').focus();
    await shot('dashboard-unhealthy.png');
  });

  it('draws the countries of Natural Earth (world-atlas) with the regions on them', async () => {
    await page.waitForSelector('[data-testid="countries"][data-loaded]');
    const countries = await page.locator('[data-testid="country"]').evaluateAll((els) => els.map((el) => el.getAttribute('data-name')));
    expect(countries.length).toBeGreaterThan(150);
    expect(countries).toEqual(expect.arrayContaining(['Ireland', 'Japan', 'Brazil', 'United States of America', 'Germany']));
    expect(countries).not.toContain('Antarctica'); // south of the frame (58°S)
    // Each region's dot lies inside its country's outline as drawn: the data and the markers agree.
    for (const [regionName, country] of [['eu-west-1', 'Ireland'], ['ap-northeast-1', 'Japan'], ['sa-east-1', 'Brazil'], ['eu-central-1', 'Germany']]) {
      const outline = (await page.locator(`[data-testid="country"][data-name="${country}"]`).boundingBox())!;
      const dot = (await region(regionName).locator('.dot').boundingBox())!;
      const [cx, cy] = [dot.x + dot.width / 2, dot.y + dot.height / 2];
      expect([regionName, cx >= outline.x && cx <= outline.x + outline.width && cy >= outline.y && cy <= outline.y + outline.height]).toEqual([regionName, true]);
    }
  });

  it('keeps every region label inside the map, also for regions at its edges', async () => {
    // Two regions in the map's corners, with long names: no placement next to the dot fits as is.
    const corners = [
      { name: 'pacific-far-east-edge-1', countryCode: 'FJ', location: { latitude: -57.5, longitude: 179.8 } },
      { name: 'arctic-far-west-edge-1', countryCode: 'US', location: { latitude: 83.5, longitude: -179.8 } },
    ];
    for (const c of corners) {
      const res = await app!.api('post', '/v1/regions', { ...c, endpoints: { ipv4: ['192.0.2.50'] } });
      expect([res.status, res.body]).toEqual([201, expect.anything()]);
    }
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map-region"]').length === 8, undefined, { timeout: 5000 });
    const outside = await page.locator('[data-testid="map-region"] .label').evaluateAll((els) => els.map((el) => {
      const text = el as unknown as SvgText;
      const b = text.getBBox();
      const v = text.ownerSVGElement.viewBox.baseVal;
      return { label: text.textContent, box: [b.x, b.y, b.width, b.height], view: [v.x, v.y, v.width, v.height], inside: b.width > 0 && b.x >= v.x && b.y >= v.y && b.x + b.width <= v.x + v.width && b.y + b.height <= v.y + v.height };
    }));
    expect(outside).toHaveLength(8);
    expect(outside.filter((l) => !l.inside)).toEqual([]);
    await shot('dashboard-edges.png');
    for (const c of corners) expect((await app!.api('delete', `/v1/regions/${c.name}`)).status).toBe(204);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map-region"]').length === 6, undefined, { timeout: 5000 });
  });

  it('shows dates with their time zone offset', async () => {
    await expectText(page, '[data-testid="region-row"][data-region="eu-west-1"]', ZONED_TIME);
    await expectText(page, '[data-testid="event"]', ZONED_TIME);
    // The context runs in UTC: the offset says so.
    expect(await page.locator('[data-testid="region-row"][data-region="eu-west-1"] time').textContent()).toMatch(/ \+00:00$/);
    expect(await page.locator('[data-testid="region-row"][data-region="eu-west-1"] time').getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(UTC\)$/);
  });

  it('drains and undrains a region after a confirmation, and the API shows it', async () => {
    const button = page.locator('[data-testid="drain-button"][data-region="eu-central-1"]');
    expect(await button.textContent()).toBe('Drain');
    expect(await page.locator('[data-testid="drain-button"][data-region="us-west-2"]').textContent()).toBe('Undrain');
    await expectText(page, '[data-testid="who"]', /admin \(admin\)/);

    const before = await app!.api('get', '/v1/route?fqdn=app.example.com&client=81.2.69.160&type=A');
    expect(before.body.answer.region).toBe('eu-central-1');

    // Cancel: nothing changes.
    await button.click();
    const dialog = page.locator('[data-testid="drain-dialog"]');
    await dialog.waitFor({ state: 'visible' });
    await expectText(page, '[data-testid="drain-dialog"]', /Drain eu-central-1\?.*stop going to eu-central-1/s);
    await shot('dashboard-drain-confirm.png');
    await page.locator('[data-testid="drain-cancel"]').click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await app!.api('get', '/v1/regions/eu-central-1')).body.drained).toBe(false);

    // Confirm: drained in the API, hollow on the map, the button offers the way back.
    await button.click();
    await page.locator('[data-testid="drain-confirm"]').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForSelector('[data-testid="map-region"][data-region="eu-central-1"][data-drained="true"]', { timeout: 5000 });
    expect((await app!.api('get', '/v1/regions/eu-central-1')).body.drained).toBe(true);
    await expectText(page, '[data-testid="region-row"][data-region="eu-central-1"]', /drained/);
    await page.waitForSelector('[data-testid="drain-button"][data-region="eu-central-1"][data-action="undrain"]');
    // Routing follows: the London client (eu-west-1 is unhealthy) no longer goes to eu-central-1.
    const route = await app!.api('get', '/v1/route?fqdn=app.example.com&client=81.2.69.160&type=A');
    expect([route.status, route.body.answer.region]).toEqual([200, expect.any(String)]);
    expect(route.body.answer.region).not.toBe('eu-central-1');
    await shot('dashboard-drained.png');

    await page.locator('[data-testid="drain-button"][data-region="eu-central-1"]').click();
    await expectText(page, '[data-testid="drain-dialog"]', /Undrain eu-central-1\?/);
    await page.locator('[data-testid="drain-confirm"]').click();
    await page.waitForSelector('[data-testid="map-region"][data-region="eu-central-1"][data-drained="false"]', { timeout: 5000 });
    expect((await app!.api('get', '/v1/regions/eu-central-1')).body.drained).toBe(false);
  });

  it('shows DNS queries per second per region and per answer after queries are sent', async () => {
    // 30 queries from a Tokyo subnet for cdn.example.com, through dig, in one run.
    const names = Array.from({ length: 30 }, () => 'cdn.example.com');
    const out = await dig(app!.dnsPort, ['+short', '+subnet=133.242.0.0/24', ...names]);
    expect(out.trim().split('\n')).toHaveLength(30);
    const row = '[data-testid="answer-row"][data-service="cdn.example.com"][data-region="ap-northeast-1"]';
    // No other test asks for cdn.example.com: all 30 counted, and a rate over the window.
    await page.waitForFunction((sel) => {
      const el = document.querySelector(sel);
      return el?.getAttribute('data-total') === '30' && Number(el.getAttribute('data-qps')) > 0;
    }, row, { timeout: 8000 });
    const qps = Number(await page.locator(row).getAttribute('data-qps'));
    // At most 30 answers within a window of at least one 2 s sample period.
    expect(qps).toBeLessThanOrEqual(15);
    expect(Number(await page.locator(`${row} [data-testid="answer-qps"]`).textContent())).toBeGreaterThan(0);
    const regionQps = Number(await page.locator('[data-testid="region-row"][data-region="ap-northeast-1"] [data-testid="region-qps"]').textContent());
    expect(regionQps).toBeGreaterThan(0);
    await expectText(page, '[data-testid="traffic-summary"]', /DNS replies\/s/);
    // The same figures from the API, derived from the counters /metrics exports.
    const traffic = await app!.api('get', '/v1/dashboard/traffic');
    expect(traffic.body.answers).toEqual(expect.arrayContaining([expect.objectContaining({ service: 'cdn.example.com', region: 'ap-northeast-1', total: 30 })]));
    const metrics = (await app!.http.get('/metrics')).text;
    const counted = [...metrics.matchAll(/^georoute_decisions_total\{service="cdn\.example\.com",region="ap-northeast-1",reason="[^"]+",path="dns"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).toBe(30);
    await shot('dashboard-traffic.png');
  });

  it("shows each region's recent probe results", async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await patchRegion('sa-east-1', { healthCheck: { type: 'tcp', target: `127.0.0.1:${port}`, intervalSeconds: 1, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 1 } });
    const strip = '[data-testid="probes"][data-region="sa-east-1"]';
    await page.waitForFunction((sel) => (document.querySelector(sel)?.querySelectorAll('[data-ok="true"]').length ?? 0) >= 2, `${strip}`, { timeout: 10_000 });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await page.waitForFunction((sel) => (document.querySelector(sel)?.querySelectorAll('[data-ok="false"]').length ?? 0) >= 1, `${strip}`, { timeout: 10_000 });
    const probes = await page.locator(`${strip} [data-testid="probe"]`).evaluateAll((els) => els.map((el) => ({ ok: el.getAttribute('data-ok'), title: el.getAttribute('title') })));
    expect(probes.length).toBeGreaterThanOrEqual(3);
    expect(probes[probes.length - 1]).toEqual({ ok: 'false', title: expect.stringMatching(/ \+00:00: failed.*\(.*refused.*\)/) });
    expect(probes[0]).toEqual({ ok: 'true', title: expect.stringMatching(/ \+00:00: ok, [\d.]+ ms/) });
    // The same observations as the health API shows, newest first there, oldest first here.
    const health = await app!.api('get', '/v1/regions/sa-east-1/health');
    expect(health.body.sources.probe.recent.length).toBeGreaterThanOrEqual(probes.length);
    expect(await page.locator('[data-testid="region-row"][data-region="eu-west-1"]').textContent()).toContain('no probe');
    await shot('dashboard-probes.png');
    await patchRegion('sa-east-1', { healthCheck: null });
  });

  it('forgets the token on request', async () => {
    await page.getByRole('button', { name: 'Forget token' }).click();
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.getItem('georoute.adminToken'))).toBeNull();
    await page.reload();
    await page.locator('#login').waitFor({ state: 'visible' });
  });

  it('works with a read-only API token (scope read): every panel loads, nothing is refused', async () => {
    // A token without read (a health reporter's) is turned back at the door, saying why.
    const reporter = await app!.api('post', '/v1/tokens', { name: 'region-reporter', scopes: ['health:report'] });
    await page.getByLabel('Token', { exact: true }).fill(reporter.body.token);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await expectText(page, '[data-testid="login-error"]', /lacks the scope read \(403 Forbidden\)/);
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    const created = await app!.api('post', '/v1/tokens', { name: 'dashboard-viewer', scopes: ['read'] });
    expect(created.status).toBe(201);
    await page.getByLabel('Token', { exact: true }).fill(created.body.token);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="map-region"]').length === 6);
    const services = await page.locator('[data-testid="service-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-fqdn')));
    expect(services).toEqual(['app.example.com', 'cdn.example.com']);
    await expectText(page, '[data-testid="events"]', /eu-west-1.*webhook/s);
    await page.waitForSelector('[data-testid="live-status"][data-mode="stream"]');
    // The anycast simulation is a POST that only computes: a read token gets it.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="catchment"]').length === 3, undefined, { timeout: 5000 });
    // Read only: no drain or undrain, anywhere.
    await expectText(page, '[data-testid="who"]', /dashboard-viewer \(read\)/);
    await page.waitForSelector('[data-testid="answer-row"]');
    expect(await page.locator('[data-testid="drain-button"]').count()).toBe(0);
    expect(await page.locator('#actions-head').isHidden()).toBe(true);
    await shot('dashboard-read-only.png');
    const session = await app!.http.get('/v1/dashboard/session').set('Authorization', `Bearer ${created.body.token}`);
    expect([session.status, session.body]).toEqual([200, { name: 'dashboard-viewer', scopes: ['read'], grants: ['read'] }]);
    await page.getByRole('button', { name: 'Forget token' }).click();
    await page.locator('#login').waitFor({ state: 'visible' });
  });

  it('offers drain to an API token with the scope write', async () => {
    const created = await app!.api('post', '/v1/tokens', { name: 'dashboard-operator', scopes: ['write'] });
    expect(created.status).toBe(201);
    const session = await app!.http.get('/v1/dashboard/session').set('Authorization', `Bearer ${created.body.token}`);
    expect(session.body).toEqual({ name: 'dashboard-operator', scopes: ['write'], grants: ['read', 'write'] });
    await page.getByLabel('Token', { exact: true }).fill(created.body.token);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await expectText(page, '[data-testid="who"]', /dashboard-operator \(write\)/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="drain-button"]').length === 6);
    expect(await page.locator('#actions-head').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Forget token' }).click();
    await page.locator('#login').waitFor({ state: 'visible' });
  });

  it('shows times in the browser\'s own zone with its offset (São Paulo, -03:00)', async () => {
    const other = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' });
    try {
      const p = await other.newPage();
      onConsole(p);
      await p.goto(`http://127.0.0.1:${app!.httpPort}/ui`);
      await p.getByLabel('Token', { exact: true }).fill(TEST_TOKEN);
      await p.getByRole('button', { name: 'Open dashboard' }).click();
      await p.locator('#dashboard').waitFor({ state: 'visible' });
      await expectText(p, '[data-testid="event"]', / -03:00/);
      const shown = await p.locator('[data-testid="event"] time').first().evaluate((el) => ({ text: el.textContent, iso: el.getAttribute('datetime') }));
      // The same instant: local wall time = UTC - 3 h.
      const [, date, time] = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) -03:00$/.exec(shown.text ?? '')!;
      expect(new Date(`${date}T${time}-03:00`).getTime()).toBe(Math.floor(new Date(shown.iso!).getTime() / 1000) * 1000);
    } finally {
      await other.close();
    }
  });

  it('logged no script errors or CSP violations in the browser', () => {
    // Expected: the browser noting the refused tokens (401, 403) and the refused client address (400).
    const unexpected = consoleErrors.filter((text) => !/^Failed to load resource: the server responded with a status of (400|401|403)\b/.test(text));
    expect(unexpected).toEqual([]);
  });
});

/** Waits (up to 5 s) until the element's text matches. */
async function expectText(page: Page, selector: string, pattern: RegExp): Promise<void> {
  const locator = page.locator(selector).first();
  try {
    await page.waitForFunction(
      ({ sel, source, flags }) => new RegExp(source, flags).test(document.querySelector(sel)?.textContent ?? ''),
      { sel: selector, source: pattern.source, flags: pattern.flags },
      { timeout: 5000 },
    );
  } catch {
    const text = (await locator.count()) > 0 ? await locator.textContent() : '(no element)';
    throw new Error(`${selector}: text ${JSON.stringify(text)} does not match ${pattern}`);
  }
}
