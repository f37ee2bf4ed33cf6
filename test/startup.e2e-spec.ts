import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, REPO_ROOT, TEST_TOKEN } from './support/test-app';
import { startProcess } from './support/process-app';

const MAIN = path.join(REPO_ROOT, 'dist/src/main.js');

function run(env: Record<string, string>, timeout = 30000) {
  return spawnSync(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout });
}

describe('process start-up', () => {
  const dirs: string[] = [];
  const tmp = (prefix: string) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('stops with exit code 2 and one message naming every bad variable', () => {
    const res = run({ HTTP_PORT: 'eighty', LOG_LEVEL: 'chatty', DATA_DIR: '/tmp/georoute-never-created' });
    expect(res.status).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('HTTP_PORT');
    expect(lines[0]).toContain('LOG_LEVEL');
  });

  it('checks the geolocation database, the ports and the configuration file before the database starts, in one message', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    const dir = tmp('georoute-preflight-');
    const config = path.join(dir, 'bad.yaml');
    fs.writeFileSync(config, 'zones:\n  - name: example.com\n   bad: [indent\n');
    const started = Date.now();
    const res = run({ DATA_DIR: path.join(dir, 'data'), GEOIP_DB: '/nonexistent.mmdb', HTTP_PORT: String(port), DNS_PORT: '0', CONFIG_FILE: config, LOG_LEVEL: 'info' });
    busy.close();
    expect(res.status).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('GEOIP_DB=/nonexistent.mmdb');
    expect(lines[0]).toContain(`HTTP_PORT=${port}: 127.0.0.1:${port}/tcp is already in use`);
    expect(lines[0]).toContain(`CONFIG_FILE=${config}`);
    // Nothing was started: no embedded database initialised, no framework start-up, no stack trace.
    expect(fs.existsSync(path.join(dir, 'data', 'pglite'))).toBe(false);
    expect(res.stdout).not.toContain('Nest');
    expect(res.stderr).not.toContain('Retrying');
    expect(Date.now() - started).toBeLessThan(20000);
  });

  it('validates the CONFIG_FILE document as the API would, before the database starts', () => {
    const dir = tmp('georoute-preflight-doc-');
    const config = path.join(dir, 'invalid.yaml');
    fs.writeFileSync(config, [
      'zones:',
      '  - { name: example.com, nameservers: [ns1.example.com], hostmaster: hostmaster.example.com }',
      'regions:',
      '  - { name: eu-west-1, countryCode: XX, location: { latitude: 53.3, longitude: -6.2 }, endpoints: { ipv4: [192.0.2.1] } }',
      'services:',
      '  - { fqdn: app.example.com, policy: nearest, regions: [eu-west-1] }',
      '',
    ].join('\n'));
    const res = run({ DATA_DIR: path.join(dir, 'data'), CONFIG_FILE: config, HTTP_PORT: '0', DNS_PORT: '0' });
    expect(res.status).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`CONFIG_FILE=${config}: regions[0].countryCode`);
    expect(lines[0]).toContain('services[0].policy');
    expect(fs.existsSync(path.join(dir, 'data', 'pglite'))).toBe(false);
  });

  it('names DATABASE_URL (without its password) when the server cannot be reached, after the configured wait', () => {
    const closed = net.createServer();
    const res = run({ DATA_DIR: tmp('georoute-nodb-'), DATABASE_URL: 'postgres://georoute:s3cret@127.0.0.1:9/georoute', DATABASE_CONNECT_TIMEOUT_SECONDS: '1', HTTP_PORT: '0', DNS_PORT: '0', LOG_LEVEL: 'info' });
    closed.close();
    expect(res.status).toBe(1);
    const out = res.stdout + res.stderr;
    expect(out).toContain('DATABASE_URL=postgres://georoute:***@127.0.0.1:9/georoute');
    expect(out).toContain('DATABASE_CONNECT_TIMEOUT_SECONDS');
    expect(out).not.toContain('s3cret');
    expect(out).not.toContain('Unable to connect to the database. Retrying');
  });

  // A compose start: PostgreSQL accepts connections a moment after georoute starts.
  // PGlite has no server to start late: this runs in the DATABASE_URL pass of CI (like multi-instance).
  const withServer = process.env.DATABASE_URL ? it : null;
  withServer?.('waits for a PostgreSQL that comes up after it (DATABASE_URL)', async () => {
    const db = await createTestDatabase();
    const target = new URL(db.env.DATABASE_URL);
    // A port that refuses until the "database" starts: a TCP relay to the real server, opened late.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const url = new URL(db.env.DATABASE_URL);
    url.port = String(port);
    // The relay opens only once georoute has said it is waiting: a fixed sleep raced a start-up
    // slowed by a loaded machine, which reached the database after the relay had opened.
    let waiting!: () => void;
    const saidWaiting = new Promise<void>((r) => (waiting = r));
    const app = startProcess(
      { DATABASE_URL: url.toString(), DATA_DIR: tmp('georoute-late-db-'), ADMIN_TOKEN: TEST_TOKEN, DATABASE_CONNECT_TIMEOUT_SECONDS: '45', CONFIG_FILE: 'none' },
      50000,
      (text) => {
        if (text.includes('cannot connect yet')) waiting();
      },
    );
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    let started: Awaited<typeof app> | undefined;
    try {
      await Promise.race([saidWaiting, app.then(() => undefined)]);
      await new Promise<void>((r) => relay.listen(port, '127.0.0.1', () => r()));
      started = await app;
      const output = started.output.join('');
      expect(output).toContain('cannot connect yet');
      expect(output.indexOf('cannot connect yet')).toBeLessThan(output.indexOf(' ready in '));
      const health = await fetch(`http://127.0.0.1:${started.httpPort}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await started?.stop();
      relay.close();
      for (const socket of sockets) socket.destroy();
      await db.drop();
    }
  });
});
