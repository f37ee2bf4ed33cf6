import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import type { LoggerService } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { startGeoroute, RunningGeoroute } from '../../src/bootstrap';

/** Loopback, exempt from DNS response rate limiting in tests that load the server from it. */
export const LOOPBACK = '127.0.0.0/8,::1';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';

export const TEST_TOKEN = 'test-admin-token-0123456789abcdef';
export const REPO_ROOT = path.resolve(__dirname, '../..');
export const SHARED = path.resolve(REPO_ROOT, '../shared');
export const MAXMIND_TEST_DB = path.join(SHARED, 'fixtures/geoip/GeoIP2-City-Test.mmdb');

/**
 * A database for one test app: a fresh PostgreSQL database on the DATABASE_URL server when that
 * is set, else a fresh embedded (PGlite) data directory. PGlite's initdb takes seconds, so a
 * template directory is made once per run and copied.
 */
export interface TestDatabase {
  env: Record<string, string>;
  dataDir: string;
  drop(): Promise<void>;
}

let templateDir: string | null = null;

async function pgliteTemplate(): Promise<string> {
  if (templateDir && fs.existsSync(templateDir)) return templateDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-pglite-template-'));
  const server = new EmbeddedPostgres(dir);
  await server.start();
  await server.stop();
  templateDir = dir;
  return dir;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-test-'));
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `georoute_t_${randomBytes(5).toString('hex')}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: u.toString(), DATA_DIR: dataDir },
      dataDir,
      drop: async () => {
        const c = new Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  fs.cpSync(path.join(await pgliteTemplate(), 'pglite'), path.join(dataDir, 'pglite'), { recursive: true });
  return { env: { DATA_DIR: dataDir }, dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}

export interface TestApp {
  running: RunningGeoroute;
  http: ReturnType<typeof request>;
  dnsPort: number;
  httpPort: number;
  ds: DataSource;
  /** GET/POST/... with the admin token. */
  api(method: 'get' | 'post' | 'patch' | 'delete' | 'put', url: string, body?: unknown): request.Test;
  stop(): Promise<void>;
}

/** Boots the real application module on ports 0 against the given database. */
export async function startTestApp(db: TestDatabase, env: Record<string, string> = {}, logger: LoggerService | false = false): Promise<TestApp> {
  const config = loadConfig({
    HTTP_PORT: '0',
    DNS_PORT: '0',
    ADMIN_TOKEN: TEST_TOKEN,
    LOG_LEVEL: 'silent',
    CONFIG_FILE: 'none',
    // Tests load the server from 127.0.0.1; the rate limiting tests set RRL_EXEMPT themselves.
    RRL_EXEMPT: LOOPBACK,
    // Probes and notifications in tests go to servers on loopback; the outbound policy refuses
    // loopback unless allowed (test/hardening.e2e-spec.ts runs without this).
    OUTBOUND_ALLOW: LOOPBACK,
    // Dozens of apps start in one run: tables fill on first use (the same answers; the preload
    // itself is covered by table-filler.spec.ts and the DNS_WORKERS test).
    DNS_TABLES_PRELOAD: 'off',
    // UDP answered in the test's own process (DNS_WORKERS=auto would fork a worker per app); the
    // worker set-up has its own tests (dns-workers, dnssec, cpu-slice, startup).
    DNS_WORKERS: '0',
    // The app runs on Jest's own thread: asking for a CPU slice would change Jest's, and every
    // process a later test spawns would inherit it (cpu-slice.e2e-spec.ts tests the slice).
    DNS_CPU_SLICE_US: '0',
    ...db.env,
    ...env,
  });
  const running = await startGeoroute(config, logger);
  const http = request(running.app.getHttpServer());
  return {
    running,
    http,
    dnsPort: running.dnsPort,
    httpPort: running.httpPort,
    ds: running.app.get(DataSource),
    api: (method, url, body) => {
      const t = http[method](url).set('Authorization', `Bearer ${TEST_TOKEN}`);
      return body === undefined ? t : t.send(body as object);
    },
    stop: () => running.close(),
  };
}

/** Every row of every registry table, for "nothing changed" assertions. */
export async function dumpRegistry(ds: DataSource): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const [table, key] of [['zones', 'name'], ['zone_records', 'id'], ['regions', 'name'], ['services', 'fqdn']] as const) {
    out[table] = await ds.query(`SELECT * FROM ${table} ORDER BY ${key}`);
  }
  return out;
}

/** The demo zone, regions and services as API bodies (a subset of config/demo.yaml, kept small). */
export const FIXTURE = {
  zone: { name: 'example.com', nameservers: ['ns1.example.com', 'ns2.example.com'], hostmaster: 'hostmaster.example.com' },
  records: [
    { name: 'ns1', type: 'A', values: ['192.0.2.53'] },
    { name: 'ns2', type: 'A', values: ['198.51.100.53'] },
  ],
  regions: [
    { name: 'eu-west-1', countryCode: 'IE', location: { latitude: 53.35, longitude: -6.26 }, endpoints: { ipv4: ['198.51.100.10'], ipv6: ['2001:db8:3::10'], baseUrl: 'https://eu-west-1.app.example.com' } },
    { name: 'us-east-1', countryCode: 'US', location: { latitude: 39.04, longitude: -77.49 }, endpoints: { ipv4: ['192.0.2.10'], ipv6: ['2001:db8:1::10'], baseUrl: 'https://us-east-1.app.example.com' } },
    { name: 'ap-northeast-1', countryCode: 'JP', location: { latitude: 35.68, longitude: 139.69 }, endpoints: { ipv4: ['203.0.113.10'], ipv6: ['2001:db8:5::10'], baseUrl: 'https://ap-northeast-1.app.example.com' } },
  ],
  service: { fqdn: 'app.example.com', policy: 'proximity', regions: ['eu-west-1', 'us-east-1', 'ap-northeast-1'], residency: 'gdpr', ttl: 30 },
};

export async function loadFixture(app: TestApp): Promise<void> {
  const expectOk = (res: request.Response) => {
    if (res.status !== 201) throw new Error(`fixture load failed: ${res.status} ${JSON.stringify(res.body)}`);
  };
  expectOk(await app.api('post', '/v1/zones', FIXTURE.zone));
  for (const r of FIXTURE.records) expectOk(await app.api('post', '/v1/zones/example.com/records', r));
  for (const r of FIXTURE.regions) expectOk(await app.api('post', '/v1/regions', r));
  expectOk(await app.api('post', '/v1/services', FIXTURE.service));
}
