import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { DnsService } from '../src/dns/dns.service';
import { DnsWorkerPool } from '../src/dns/workers/worker-pool';
import { SnapshotStore } from '../src/snapshot/snapshot.store';
import * as path from 'node:path';
import { createTestDatabase, startTestApp, SHARED, TestApp, TestDatabase } from './support/test-app';
import { addresses, dig, query, waitFor } from './support/dns-client';

/**
 * DNS_WORKERS=2 against the real server: UDP answered by two cluster workers sharing the socket,
 * TCP by the main process; every snapshot reaches the workers; a killed worker is replaced; the
 * counters of all processes add up in /metrics; nothing is left running after stop.
 */
const MAXMIND_TEST_DB = path.join(SHARED, 'fixtures', 'geoip', 'GeoIP2-City-Test.mmdb');

function workerPids(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'dns-worker.js'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('DNS_WORKERS: UDP answered by worker processes', () => {
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '', GEOIP_DB: MAXMIND_TEST_DB, DNS_WORKERS: '2', DNS_TABLES_PRELOAD: 'on', INSTANCE_ID: 'workers-e2e-1', DNS_VERSION: 'georoute-e2e',
      // The latency test below: one report is evidence enough, compiled every 200 ms.
      LATENCY_MIN_SAMPLES: '1', LATENCY_MIN_SOURCES: '1', LATENCY_COMPILE_INTERVAL_MS: '200' });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('answers over UDP from the workers and over TCP from the main process, and says so in /readyz', async () => {
    expect(workerPids()).toHaveLength(2);
    // 81.2.69.160/27 is London in the test database: the nearest region of the demo is eu-west-1.
    const udp = await query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.160/27' });
    const tcp = await query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.160/27', tcp: true });
    expect(addresses(udp)).toEqual(addresses(tcp));
    expect(addresses(udp).length).toBeGreaterThan(0);
    const ready = await app.http.get('/readyz');
    expect(ready.body.checks.find((c: { name: string }) => c.name === 'dns').detail).toMatch(/2 of 2 UDP workers answering/);
  });

  it('workers answer NSID and CHAOS TXT as this instance (dig over UDP; TCP from the main process)', async () => {
    expect(await dig(app.dnsPort, ['www.example.com', '+nsid'])).toContain('("workers-e2e-1")');
    for (const tcp of [[], ['+tcp']]) {
      expect(await dig(app.dnsPort, [...tcp, '+short', 'CH', 'TXT', 'id.server'])).toBe('"workers-e2e-1"\n');
      expect(await dig(app.dnsPort, [...tcp, '+short', 'CH', 'TXT', 'version.bind'])).toBe('"georoute-e2e"\n');
    }
  });

  it('sends every new snapshot to the workers: a drained region leaves the UDP answers at once', async () => {
    const before = addresses(await query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.160/27' }));
    const explain = await app.api('get', '/v1/route?fqdn=app.example.com&client=81.2.69.161');
    const region = explain.body.answer.region;
    expect(region).toBe('eu-west-1');
    await app.api('patch', `/v1/regions/${region}`, { drained: true }).expect(200);
    const started = Date.now();
    // Every worker: ask several times (the kernel spreads datagrams over both).
    await waitFor('both workers answer without the drained region', async () => {
      const seen = await Promise.all(Array.from({ length: 8 }, () => query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.160/27' })));
      return seen.every((p) => addresses(p).join() !== before.join());
    }, 3000);
    expect(Date.now() - started).toBeLessThan(1000);
    await app.api('patch', `/v1/regions/${region}`, { drained: false }).expect(200);
  });

  it('says when every worker has filled its routing tables for a new snapshot (this process fills none)', async () => {
    const dns = app.running.app.get(DnsService) as unknown as { logger: { log: (message: string) => void } };
    const lines: string[] = [];
    const log = dns.logger.log;
    dns.logger.log = function (this: unknown, message: string) {
      lines.push(String(message));
      return log.call(this, message);
    };
    try {
      await app.api('patch', '/v1/regions/us-east-1', { weight: 3 }).expect(200);
      await waitFor('the fill line', async () => lines.some((l) => /^routing tables filled ahead of queries by 2 DNS workers \(slowest \d+ ms\)$/.test(l)), 20000, 100);
      expect(lines.filter((l) => l.startsWith('routing tables filled ahead of queries (')).length).toBe(0);
    } finally {
      dns.logger.log = log;
      await app.api('patch', '/v1/regions/us-east-1', { weight: 100 }).expect(200);
    }
  });

  it('the compiled latency evidence reaches the workers with the snapshot', async () => {
    expect((await app.api('post', '/v1/services', { fqdn: 'lat.example.com', policy: 'latency', regions: ['eu-west-1', 'us-east-1'], residency: 'none' })).status).toBe(201);
    const before = addresses(await query(app.dnsPort, 'lat.example.com', 'A', { subnet: '81.2.69.160/27' }));
    expect(before).toEqual(['198.51.100.10']); // London: eu-west-1 by distance
    const fed = await app.api('post', '/v1/measurements', { measurements: [{ client: '81.2.69.160', region: 'us-east-1', rttMs: 5 }, { client: '81.2.69.160', region: 'eu-west-1', rttMs: 90 }] });
    expect(fed.status).toBe(202);
    await waitFor('UDP (workers) answers by the measurement', async () => addresses(await query(app.dnsPort, 'lat.example.com', 'A', { subnet: '81.2.69.160/27' }))[0] === '192.0.2.10', 8000, 50);
    for (let i = 0; i < 6; i++) expect(addresses(await query(app.dnsPort, 'lat.example.com', 'A', { subnet: '81.2.69.160/27' }))).toEqual(['192.0.2.10']);
    expect(addresses(await query(app.dnsPort, 'lat.example.com', 'A', { subnet: '81.2.69.160/27', tcp: true }))).toEqual(['192.0.2.10']);
    expect((await app.api('delete', '/v1/services/lat.example.com')).status).toBe(204);
  });

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const [victim] = workerPids();
    process.kill(victim, 'SIGKILL');
    for (let i = 0; i < 20; i++) {
      // Each worker reads a socket of its own: a datagram that reaches the victim's socket while it
      // is dying (before the kernel takes the socket out of the group) is lost with it, so the
      // client asks once more, as a resolver does; the retry meets the worker left.
      const ask = (timeoutMs: number) => query(app.dnsPort, 'app.example.com', 'A', { subnet: `81.2.69.${160 + i}/32`, timeoutMs });
      const p = await ask(1000).catch(() => ask(3000));
      expect(addresses(p).length).toBeGreaterThan(0);
    }
    await waitFor('a new worker', async () => {
      const pids = workerPids();
      return pids.length === 2 && !pids.includes(victim);
    }, 10000, 100);
    await waitFor('readiness counts both workers again', async () => {
      const ready = await app.http.get('/readyz');
      return /2 of 2 UDP workers answering/.test(ready.body.checks.find((c: { name: string }) => c.name === 'dns').detail);
    }, 10000, 100);
  });

  it('keeps serving when a snapshot is published to a worker that died but is not yet reaped', async () => {
    const dns = app.running.app.get(DnsService) as unknown as { pool: DnsWorkerPool };
    const [victim] = workerPids();
    process.kill(victim, 'SIGKILL');
    // Wait without yielding to the event loop (so the exit is not processed) until the worker is a zombie.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !/^State:\s+Z/m.test(readFileSync(`/proc/${victim}/status`, 'utf8'))) {
      /* spin */
    }
    // The IPC write to the dead worker fails (EPIPE): that must not become an unhandled error.
    dns.pool.publish(app.running.app.get(SnapshotStore).currentSource()!);
    await waitFor('a new worker', async () => {
      const pids = workerPids();
      return pids.length === 2 && !pids.includes(victim);
    }, 10000, 100);
    const p = await query(app.dnsPort, 'app.example.com', 'A', { subnet: '81.2.69.160/27' });
    expect(addresses(p)).toEqual(['198.51.100.10']);
  });

  it('adds the counters of every process into /metrics', async () => {
    const read = async () => {
      const text = (await app.http.get('/metrics')).text;
      return Number(/georoute_dns_queries_by_type_total\{qtype="TXT",transport="udp"\} (\d+)/.exec(text)?.[1] ?? NaN);
    };
    const before = await read();
    for (let i = 0; i < 30; i++) await query(app.dnsPort, 'example.com', 'TXT');
    // Workers report every second.
    await waitFor('30 more TXT queries counted', async () => (await read()) === before + 30, 5000, 200);
  });

  it('DNSSEC: the workers sign ahead of queries; DO=1 answers over UDP make no signature on the query path', async () => {
    const res = await app.api('post', '/v1/zones/example.com/dnssec', {});
    expect(res.status).toBe(201);
    await waitFor('the signed DNSKEY over UDP', async () => (await dig(app.dnsPort, ['+dnssec', 'example.com', 'DNSKEY'])).includes('RRSIG'), 10000, 100);
    const scrape = async () => {
      const text = (await app.http.get('/metrics')).text;
      const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
      return {
        background: value(/georoute_dnssec_signatures_total\{path="background"\} (\d+)/),
        query: value(/georoute_dnssec_signatures_total\{path="query"\} (\d+)/),
        udpNoerror: value(/georoute_dns_responses_total\{rcode="NOERROR",transport="udp"\} (\d+)/),
      };
    };
    // Every process (two workers, the main process) pre-signs its own view: wait until no more is signed.
    let last = await scrape();
    await waitFor('the pre-signers done', async () => {
      const now = await scrape();
      const same = now.background > 0 && now.background === last.background;
      last = now;
      return same;
    }, 15000, 1200);
    const before = last;
    const asked: string[][] = [];
    for (const subnet of ['81.2.69.160/27', '175.16.199.0/24', '216.160.83.56/32']) {
      asked.push(['+dnssec', `+subnet=${subnet}`, 'app.example.com', 'A'], ['+dnssec', `+subnet=${subnet}`, 'app.example.com', 'AAAA']);
    }
    asked.push(['+dnssec', 'example.com', 'SOA'], ['+dnssec', 'example.com', 'DNSKEY'], ['+dnssec', 'example.com', 'NS']);
    for (const args of asked) expect(`${args.join(' ')}: ${await dig(app.dnsPort, args)}`).toMatch(/\tRRSIG\t/);
    // Every reply counted (each worker reported after answering its share), then no query-path signature among them.
    await waitFor('the replies counted', async () => (last = await scrape()).udpNoerror >= before.udpNoerror + asked.length, 5000, 200);
    expect(last.query).toBe(before.query);
  });

  it('stops its workers when the app stops', async () => {
    await app.stop();
    await waitFor('no worker left', async () => workerPids().length === 0, 10000, 100);
    app = null as never;
  });
});

/** A UDP socket on a port whose TCP side is free at the time (so the start fails at UDP, not TCP). */
async function udpTakenTcpFree(): Promise<{ squatter: dgram.Socket; port: number }> {
  for (;;) {
    const squatter = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) => squatter.bind(0, '127.0.0.1', () => resolve(squatter.address().port)));
    const tcpFree = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (tcpFree) return { squatter, port };
    squatter.close();
  }
}

describe('DNS_WORKERS start-up errors', () => {
  it('refuses to start, naming the cause, when the UDP port is taken, and leaves no worker behind', async () => {
    const db = await createTestDatabase();
    const { squatter, port } = await udpTakenTcpFree();
    try {
      await expect(startTestApp(db, { GEOIP_DB: MAXMIND_TEST_DB, DNS_WORKERS: '1', DNS_PORT: String(port) })).rejects.toThrow(
        new RegExp(`cannot bind UDP 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
      await waitFor('no worker left', async () => workerPids().length === 0, 10000, 100);
    } finally {
      squatter.close();
      await db.drop();
    }
  });
});
