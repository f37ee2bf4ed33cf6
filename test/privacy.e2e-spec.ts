import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { PinoLogger } from '../src/common/pino-logger';
import { signWebhook } from '../src/health/webhook-verifier';
import { createTestDatabase, startTestApp, TestApp, TestDatabase } from './support/test-app';
import { query } from './support/dns-client';

/** Client addresses used below: none may appear in full in any log line (DESIGN §8). */
const CLIENTS = ['193.99.144.80', '80.12.0.77', '133.242.0.3', '81.2.69.160', '2a01:4f8:0:a0a1::2', '2001:200:dff:fff1:216:3eff:feb1:44d7'];
const SECRET = 'whsec_' + Buffer.from('privacy-test-secret-0123456789abc').toString('base64');

describe('data minimisation: no full client address in the logs', () => {
  let db: TestDatabase;
  let app: TestApp;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', TRUSTED_PROXIES: '127.0.0.1/32', LOG_LEVEL: 'trace' }, new PinoLogger('trace', 'privacy-test', sink));
    await app.api('patch', '/v1/regions/eu-west-1', { webhookSecret: SECRET });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('runs DNS, explain, redirect, refusal and webhook traffic for those clients and logs none of their addresses', async () => {
    await app.api('post', '/v1/services', { fqdn: 'us-only.example.com', regions: ['us-east-1'], residency: 'gdpr' });
    for (const ip of CLIENTS) {
      const v6 = ip.includes(':');
      await query(app.dnsPort, 'app.example.com', v6 ? 'AAAA' : 'A', { subnet: `${ip}/${v6 ? 56 : 32}` });
      await query(app.dnsPort, 'us-only.example.com', 'A', { subnet: `${ip}/${v6 ? 56 : 32}` });
      expect((await app.api('get', `/v1/route?fqdn=app.example.com&client=${ip}`)).status).toBe(200);
      await app.http.get('/r/app.example.com/account?user=1').set('X-Forwarded-For', ip);
      await app.http.get('/r/us-only.example.com/').set('X-Forwarded-For', ip);
      await app.api('get', `/v1/route?fqdn=nope.example.com&client=${ip}`);
    }
    const raw = JSON.stringify({ region: 'eu-west-1', status: 'unhealthy', reason: 'database down' });
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    await app.http.post('/v1/health/webhook').set({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(SECRET, id, ts, raw) }).send(raw);
    await new Promise((r) => setTimeout(r, 200));

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(20);
    expect(log).toMatch(/"context":"http"/);
    expect(log).toMatch(/\/24/);
    expect(log).toContain('database down');
    for (const ip of CLIENTS) expect(log).not.toContain(ip);
  });
});
