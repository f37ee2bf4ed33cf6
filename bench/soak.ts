/**
 * Soak: georoute as a real process (demo configuration, embedded database under bench/out/) under
 * dnsperf at a fraction (default half) of the maximum measured first, for SOAK_SECONDS (default
 * 300), while a region's health flaps through signed webhooks and the API is written every second.
 * Prints a Markdown section for bench/RESULTS.md; raw outputs go to bench/out/soak-<time>/.
 *
 *   bench/soak.sh                         (builds, then node dist/bench/soak.js)
 *
 * Environment: SOAK_SECONDS (300), SOAK_MAX_SECONDS (10: the dnsperf run that measures the
 * maximum), SOAK_RATE_FRACTION (0.5), SOAK_FLAP_SECONDS (3: a webhook every N s toggling
 * eu-west-1), SOAK_WARMUP_SECONDS (min(60, 20 % of the soak)), SOAK_QUERIES (20000 distinct
 * queries in the dnsperf input).
 *
 * Load: dnsperf -B (binary input: each query as its own octets, so every one can carry its own
 * ECS) over a mix of service names with ECS from 4,000 client subnets (IPv4 and IPv6), a CNAME,
 * static names, NXDOMAIN, and queries without EDNS. Alongside: a latency probe (100 queries/s,
 * UDP, the p99 dnsperf does not report), the webhook flapper (each flip's propagation into the
 * DNS answer of a London client is timed), PATCHes alternating a service TTL and a region weight
 * every second, and an RSS sample (/proc/PID/status) every 10 s.
 *
 * Pass: 0 queries lost (dnsperf) and 0 probe timeouts, every webhook and PATCH accepted, RSS after
 * warm-up -> end grows < 10 %, no 'Unhandled'/'uncaught' in the server output, the server alive
 * and answering correctly at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { signWebhook } from '../src/health/webhook-verifier';

const ROOT = findRoot();
const SOAK_S = num('SOAK_SECONDS', 300);
const MAX_S = num('SOAK_MAX_SECONDS', 10);
const FRACTION = num('SOAK_RATE_FRACTION', 0.5);
const FLAP_S = num('SOAK_FLAP_SECONDS', 3);
const WARMUP_S = num('SOAK_WARMUP_SECONDS', Math.min(60, Math.round(SOAK_S * 0.2)));
const DISTINCT = num('SOAK_QUERIES', 20_000);
const TOKEN = `soak-${randomBytes(12).toString('hex')}`;
const WEBHOOK_SECRET = `soak-webhook-secret-${randomBytes(8).toString('hex')}`;
const FLAP_REGION = 'eu-west-1';
const LONDON = [81, 2, 69, 0];
const EU_WEST_1 = '198.51.100.10';

function num(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got ${v})`);
  return n;
}

function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
}

const log = (s: string) => process.stderr.write(`soak: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Queries

let seed = 0x5eed;
function rnd(n: number): number {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
  return ((seed >>> 0) % n) >>> 0;
}

function encodeQuery(id: number, name: string, qtype: number, ecs: { family: 1 | 2; source: number; addr: number[] } | null, edns = true): Buffer {
  const parts: number[] = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0];
  for (const label of name.split('.')) {
    parts.push(label.length);
    for (const c of Buffer.from(label)) parts.push(c);
  }
  parts.push(0, qtype >> 8, qtype & 0xff, 0, 1);
  if (edns) {
    const opt: number[] = [];
    if (ecs) {
      const n = (ecs.source + 7) >> 3;
      const addr = ecs.addr.slice(0, n);
      opt.push(0, 8, 0, 4 + n, 0, ecs.family, ecs.source, 0, ...addr);
    }
    parts.push(0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, opt.length >> 8, opt.length & 0xff, ...opt);
  }
  return Buffer.from(parts);
}

/** The dnsperf -B input: [length][query] for DISTINCT queries; returns its path and the mix. */
function writeQueryFile(file: string): Record<string, number> {
  const subnets4: number[][] = Array.from({ length: 3000 }, () => [1 + rnd(223), rnd(256), rnd(256), 0]);
  subnets4.push(LONDON, [133, 242, 0, 0], [89, 160, 20, 0], [216, 160, 83, 0]);
  const subnets6: number[][] = Array.from({ length: 1000 }, () => [0x20 + rnd(12), rnd(256), rnd(256), rnd(256), rnd(256), rnd(256), rnd(256), 0]);
  const mix: Record<string, number> = {};
  const out: Buffer[] = [];
  for (let i = 0; i < DISTINCT; i++) {
    const k = rnd(100);
    let q: Buffer;
    let kind: string;
    const id = rnd(65536);
    const v4 = rnd(4) !== 0;
    const ecs = v4 ? { family: 1 as const, source: 24, addr: subnets4[rnd(subnets4.length)] } : { family: 2 as const, source: 56, addr: subnets6[rnd(subnets6.length)] };
    if (k < 50) [q, kind] = [encodeQuery(id, 'app.example.com', rnd(3) ? 1 : 28, ecs), 'app.example.com A/AAAA + ECS'];
    else if (k < 65) [q, kind] = [encodeQuery(id, 'cdn.example.com', rnd(3) ? 1 : 28, ecs), 'cdn.example.com A/AAAA + ECS'];
    else if (k < 75) [q, kind] = [encodeQuery(id, 'www.example.com', 1, ecs), 'www.example.com (CNAME) + ECS'];
    else if (k < 85) {
      const [name, type] = [['example.com', 6], ['example.com', 2], ['example.com', 16], ['ns1.example.com', 1], ['example.com', 255]][rnd(5)] as [string, number];
      [q, kind] = [encodeQuery(id, name, type, null), 'static (SOA, NS, TXT, A, ANY)'];
    } else if (k < 95) [q, kind] = [encodeQuery(id, `nope-${rnd(1000)}.example.com`, 1, null), 'NXDOMAIN'];
    else [q, kind] = [encodeQuery(id, 'app.example.com', 1, null, false), 'app.example.com A, no EDNS (socket client)'];
    mix[kind] = (mix[kind] ?? 0) + 1;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    out.push(len, q);
  }
  fs.writeFileSync(file, Buffer.concat(out));
  return mix;
}

// ---------------------------------------------------------------------------------------------
// georoute, dnsperf

interface Server {
  child: ChildProcess;
  httpPort: number;
  dnsPort: number;
  logFile: string;
  output(): string;
  stop(): Promise<void>;
}

function startGeoroute(dataDir: string, logFile: string): Promise<Server> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', DNS_PORT: '0', LOG_LEVEL: 'info', RRL_EXEMPT: '127.0.0.0/8,::1', DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN, WEBHOOK_SECRET,
      // One process, as the recorded soaks ran (DNS_WORKERS=auto adds a worker on two CPUs or more).
      DNS_WORKERS: process.env.DNS_WORKERS ?? '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sink = fs.createWriteStream(logFile);
  let head = '';
  let ready = false;
  let unhandled = 0;
  let errors = 0;
  const scan = (s: string) => {
    unhandled += (s.match(/unhandled|uncaught/gi) ?? []).length;
    errors += (s.match(/"level":(50|60)/g) ?? []).length;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`georoute did not start within 90 s:\n${head}`)), 90_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`georoute exited with ${code}:\n${head}`));
    };
    child.once('exit', onExit);
    child.stderr!.on('data', (c: Buffer) => {
      sink.write(c);
      scan(c.toString('utf8'));
    });
    child.stdout!.on('data', (c: Buffer) => {
      sink.write(c);
      const s = c.toString('utf8');
      scan(s);
      if (ready) return;
      head += s;
      const m = /HTTP http:\/\/[^:]+:(\d+) DNS [^:]+:(\d+)/.exec(head);
      if (m) {
        ready = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({
          child,
          httpPort: Number(m[1]),
          dnsPort: Number(m[2]),
          logFile,
          output: () => JSON.stringify({ unhandled, errors }),
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => {
                sink.end();
                done();
              });
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
            }),
        });
      }
    });
  });
}

interface DnsperfResult {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  avgLatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  stddevMs: number;
  rcodes: string;
  raw: string;
}

function runDnsperf(args: string[], outFile: string): Promise<DnsperfResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      fs.writeFileSync(outFile, `$ dnsperf ${args.join(' ')}\n${out}`);
      const n = (re: RegExp) => Number((re.exec(out) ?? [])[1] ?? NaN);
      const lat = /Average Latency \(s\):\s+([\d.]+)\s+\(min ([\d.]+), max ([\d.]+)\)/.exec(out);
      if (code !== 0 || !lat) return reject(new Error(`dnsperf exited with ${code}:\n${out}`));
      resolve({
        sent: n(/Queries sent:\s+(\d+)/),
        completed: n(/Queries completed:\s+(\d+)/),
        lost: n(/Queries lost:\s+(\d+)/),
        qps: n(/Queries per second:\s+([\d.]+)/),
        avgLatencyMs: Number(lat[1]) * 1000,
        minLatencyMs: Number(lat[2]) * 1000,
        maxLatencyMs: Number(lat[3]) * 1000,
        stddevMs: n(/Latency StdDev \(s\):\s+([\d.]+)/) * 1000,
        rcodes: (/Response codes:\s+(.*)/.exec(out) ?? [])[1] ?? '',
        raw: out,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Side activities

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** A UDP query; resolves with the A/AAAA addresses' first octets as text, or null on timeout. */
function udpQuery(sock: dgram.Socket, port: number, msg: Buffer, pending: Map<number, (m: Buffer) => void>, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const id = msg.readUInt16BE(0);
    const timer = setTimeout(() => {
      pending.delete(id);
      resolve(null);
    }, timeoutMs);
    pending.set(id, (m) => {
      clearTimeout(timer);
      pending.delete(id);
      resolve(m);
    });
    sock.send(msg, port, '127.0.0.1');
  });
}

/** The first A record's address in a reply (a minimal reader: answers follow the question). */
function firstA(reply: Buffer): string | null {
  if (reply.length < 12 || reply.readUInt16BE(6) === 0) return null;
  let p = 12;
  while (reply[p] !== 0) p += 1 + reply[p];
  p += 5;
  for (let i = 0; i < reply.readUInt16BE(6); i++) {
    p += (reply[p] & 0xc0) === 0xc0 ? 2 : 0;
    const type = reply.readUInt16BE(p);
    const rdlen = reply.readUInt16BE(p + 8);
    if (type === 1 && rdlen === 4) return [...reply.subarray(p + 10, p + 14)].join('.');
    p += 10 + rdlen;
  }
  return null;
}

async function main(): Promise<number> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.join(ROOT, 'bench/out', `soak-${stamp}`);
  fs.mkdirSync(outDir, { recursive: true });
  const dataDir = path.join(outDir, 'data');
  const queryFile = path.join(outDir, 'queries.bin');
  const mix = writeQueryFile(queryFile);
  log(`${DISTINCT} queries in ${path.relative(ROOT, queryFile)}; starting georoute (DATA_DIR ${path.relative(ROOT, dataDir)})`);
  const server = await startGeoroute(dataDir, path.join(outDir, 'georoute.log'));
  const pid = server.child.pid!;
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  const api = `http://127.0.0.1:${server.httpPort}`;
  const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  log(`georoute pid ${pid}, DNS 127.0.0.1:${server.dnsPort}, HTTP ${api}`);

  try {
    // 1. The maximum: dnsperf flat out for MAX_S seconds.
    const maxRun = await runDnsperf(['-s', '127.0.0.1', '-p', String(server.dnsPort), '-B', '-d', queryFile, '-l', String(MAX_S)], path.join(outDir, 'dnsperf-max.txt'));
    const rate = Math.max(100, Math.floor(maxRun.qps * FRACTION));
    log(`maximum ${maxRun.qps.toFixed(0)} queries/s (lost ${maxRun.lost}); soaking ${SOAK_S} s at ${rate} queries/s`);
    await sleep(2000);

    // 2. The soak and everything alongside it.
    const started = Date.now();
    let running = true;
    const soak = runDnsperf(
      ['-s', '127.0.0.1', '-p', String(server.dnsPort), '-B', '-d', queryFile, '-l', String(SOAK_S), '-Q', String(rate), '-S', '10'],
      path.join(outDir, 'dnsperf-soak.txt'),
    ).finally(() => (running = false));

    // RSS every 10 s.
    const rss: Array<[number, number]> = [];
    const readRss = () => {
      try {
        const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) rss.push([Math.round((Date.now() - started) / 1000), Number(m[1])]);
      } catch {
        // the process is gone: reported as not alive at the end
      }
    };
    readRss();
    const rssTimer = setInterval(() => alive() && readRss(), 10_000);

    // Latency probe: 100 queries/s, UDP, ECS from a pool of subnets.
    const probeSock = dgram.createSocket('udp4');
    const pending = new Map<number, (m: Buffer) => void>();
    probeSock.on('message', (m) => m.length >= 2 && pending.get(m.readUInt16BE(0))?.(m));
    await new Promise<void>((r) => probeSock.bind(0, '127.0.0.1', () => r()));
    const latencies: number[] = [];
    let probeLost = 0;
    let probeId = 0;
    const probe = (async () => {
      while (running) {
        const id = (probeId = (probeId + 1) & 0xffff);
        const msg = encodeQuery(id, rnd(2) ? 'app.example.com' : 'cdn.example.com', 1, { family: 1, source: 24, addr: [1 + rnd(223), rnd(256), rnd(256), 0] });
        const t0 = process.hrtime.bigint();
        const reply = await udpQuery(probeSock, server.dnsPort, msg, pending, 2000);
        if (reply === null) probeLost++;
        else latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        await sleep(10);
      }
    })();

    // Health flapping through signed webhooks; each flip's propagation to a London client's answer.
    const flaps = { sent: 0, accepted: 0, refused: [] as string[], propagationMs: [] as number[], notPropagated: 0 };
    const londonQuery = (id: number) => encodeQuery(id, 'app.example.com', 1, { family: 1, source: 24, addr: LONDON });
    const flapper = (async () => {
      let healthy = false;
      while (running) {
        await sleep(FLAP_S * 1000);
        if (!running) break;
        const body = JSON.stringify({ region: FLAP_REGION, status: healthy ? 'healthy' : 'unhealthy', reason: 'soak flap' });
        const id = `msg_${randomUUID()}`;
        const ts = Math.floor(Date.now() / 1000);
        const t0 = Date.now();
        flaps.sent++;
        try {
          const res = await fetch(`${api}/v1/health/webhook`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(WEBHOOK_SECRET, id, ts, body) },
            body,
          });
          if (res.ok) flaps.accepted++; // 202 Accepted
          else flaps.refused.push(`${res.status} ${(await res.text()).slice(0, 200)}`);
        } catch (e) {
          flaps.refused.push((e as Error).message);
        }
        // eu-west-1 healthy: London is answered from it; unhealthy: from another EU region.
        let seen = false;
        while (Date.now() - t0 < 2000) {
          const reply = await udpQuery(probeSock, server.dnsPort, londonQuery((probeId = (probeId + 1) & 0xffff)), pending, 1000);
          const a = reply ? firstA(reply) : null;
          if (a !== null && (a === EU_WEST_1) === healthy) {
            seen = true;
            break;
          }
          await sleep(5);
        }
        if (seen) flaps.propagationMs.push(Date.now() - t0);
        else flaps.notPropagated++;
        healthy = !healthy;
      }
    })();

    // API writes every second: a service TTL and a region weight, alternately.
    const writes = { sent: 0, ok: 0, failed: [] as string[], latencies: [] as number[] };
    const writer = (async () => {
      let i = 0;
      while (running) {
        await sleep(1000);
        if (!running) break;
        const [url, body] =
          i % 2 === 0 ? [`${api}/v1/services/app.example.com`, { ttl: 30 + (i % 4 === 0 ? 1 : 0) }] : [`${api}/v1/regions/us-west-2`, { weight: 100 + (i % 4 === 1 ? 1 : 0) }];
        i++;
        const t0 = Date.now();
        writes.sent++;
        try {
          const res = await fetch(url, { method: 'PATCH', headers: auth, body: JSON.stringify(body) });
          writes.latencies.push(Date.now() - t0);
          if (res.status === 200) writes.ok++;
          else writes.failed.push(`${res.status} ${(await res.text()).slice(0, 200)}`);
        } catch (e) {
          writes.failed.push((e as Error).message);
        }
      }
    })();

    let result: DnsperfResult;
    try {
      result = await soak;
    } finally {
      running = false;
      clearInterval(rssTimer);
    }
    await Promise.all([probe, flapper, writer]);
    if (alive()) readRss();
    probeSock.close();

    // 3. After: alive, a normal query answered correctly (eu-west-1 is left healthy or not: accept either EU answer).
    const finalSock = dgram.createSocket('udp4');
    const finalPending = new Map<number, (m: Buffer) => void>();
    finalSock.on('message', (m) => m.length >= 2 && finalPending.get(m.readUInt16BE(0))?.(m));
    await new Promise<void>((r) => finalSock.bind(0, '127.0.0.1', () => r()));
    const finalReply = await udpQuery(finalSock, server.dnsPort, londonQuery(4242), finalPending, 2000);
    finalSock.close();
    const finalA = finalReply ? firstA(finalReply) : null;
    const aliveAtEnd = alive();
    const counts = JSON.parse(server.output()) as { unhandled: number; errors: number };

    const warm = rss.find(([t]) => t >= WARMUP_S) ?? rss[0];
    const last = rss[rss.length - 1];
    const growth = ((last[1] - warm[1]) / warm[1]) * 100;
    const sortedLat = [...latencies].sort((a, b) => a - b);
    const sortedWrites = [...writes.latencies].sort((a, b) => a - b);
    const sortedProp = [...flaps.propagationMs].sort((a, b) => a - b);
    const intervals = [...result.raw.matchAll(/^\s*([\d.]+)\s+qps/gim)].map((m) => Number(m[1]));
    fs.writeFileSync(path.join(outDir, 'soak.json'), JSON.stringify({ maxRun: { ...maxRun, raw: undefined }, rate, result: { ...result, raw: undefined }, rss, flaps, writes: { ...writes, latencies: undefined }, probe: { n: latencies.length, lost: probeLost } }, null, 2));

    const failures: string[] = [];
    if (result.lost > 0) failures.push(`${result.lost} queries lost`);
    if (probeLost > 0) failures.push(`${probeLost} probe timeouts`);
    if (flaps.accepted !== flaps.sent) failures.push(`${flaps.sent - flaps.accepted} webhooks refused`);
    if (flaps.notPropagated > 0) failures.push(`${flaps.notPropagated} flips not seen in DNS within 2 s`);
    if (writes.ok !== writes.sent) failures.push(`${writes.sent - writes.ok} API writes failed`);
    if (growth >= 10) failures.push(`RSS grew ${growth.toFixed(1)} % after warm-up`);
    if (counts.unhandled > 0) failures.push(`${counts.unhandled} unhandled/uncaught in the server output`);
    if (!aliveAtEnd || finalA === null) failures.push('the server is not answering at the end');

    const mib = (kb: number) => (kb / 1024).toFixed(1);
    const ms = (x: number) => x.toFixed(2);
    const lines = [
      `### Soak: ${SOAK_S} s at ${Math.round(FRACTION * 100)} % of the measured maximum, health flapping and API writes`,
      '',
      `Machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; georoute as a real process (embedded database), dnsperf 2 in one process on the same machine.`,
      '',
      '| figure | value |',
      '|---|---|',
      `| maximum (dnsperf -l ${MAX_S}, 100 outstanding) | ${maxRun.qps.toFixed(0)} queries/s, avg latency ${ms(maxRun.avgLatencyMs)} ms, lost ${maxRun.lost} |`,
      `| soak rate (dnsperf -Q) | ${rate} queries/s for ${SOAK_S} s; achieved ${result.qps.toFixed(0)}/s${intervals.length ? ` (10 s intervals ${Math.min(...intervals).toFixed(0)}-${Math.max(...intervals).toFixed(0)})` : ''} |`,
      `| queries sent / completed / **lost** | ${result.sent} / ${result.completed} / **${result.lost}** |`,
      `| response codes | ${result.rcodes} |`,
      `| dnsperf latency avg / min / max / stddev | ${ms(result.avgLatencyMs)} / ${ms(result.minLatencyMs)} / ${ms(result.maxLatencyMs)} / ${ms(result.stddevMs)} ms |`,
      `| probe latency (100/s alongside, UDP) p50 / p99 / p99.9 / max | ${ms(percentile(sortedLat, 0.5))} / ${ms(percentile(sortedLat, 0.99))} / ${ms(percentile(sortedLat, 0.999))} / ${ms(sortedLat[sortedLat.length - 1] ?? NaN)} ms over ${latencies.length} queries, ${probeLost} lost |`,
      `| health flaps (signed webhooks, ${FLAP_REGION} every ${FLAP_S} s) | ${flaps.sent} sent, ${flaps.accepted} accepted; seen in a London client's answer after p50 ${percentile(sortedProp, 0.5)} / max ${sortedProp[sortedProp.length - 1] ?? NaN} ms; ${flaps.notPropagated} not seen within 2 s |`,
      `| API writes (PATCH service ttl / region weight, 1/s) | ${writes.sent} sent, ${writes.ok} x 200; latency p50 ${percentile(sortedWrites, 0.5)} / p99 ${percentile(sortedWrites, 0.99)} / max ${sortedWrites[sortedWrites.length - 1] ?? NaN} ms |`,
      `| RSS (every 10 s) first / after ${WARMUP_S} s warm-up / max / last | ${mib(rss[0][1])} / ${mib(warm[1])} / ${mib(Math.max(...rss.map(([, kb]) => kb)))} / ${mib(last[1])} MiB: **${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %** after warm-up |`,
      `| server output | ${counts.unhandled} 'Unhandled'/'uncaught', ${counts.errors} error/fatal lines |`,
      `| at the end | ${aliveAtEnd ? 'alive' : '**exited**'}; London A -> ${finalA ?? 'no answer'} |`,
      `| verdict | ${failures.length === 0 ? 'pass' : `**fail**: ${failures.join('; ')}`} |`,
      '',
      `Query mix (${DISTINCT} distinct queries, cycled): ${Object.entries(mix).map(([k, v]) => `${k} ${((v / DISTINCT) * 100).toFixed(0)} %`).join(', ')}.`,
      '',
      `RSS series (s: MiB): ${rss.map(([t, kb]) => `${t}: ${mib(kb)}`).join(', ')}`,
      '',
      '```sh',
      `SOAK_SECONDS=${SOAK_S} bench/soak.sh   # dnsperf -B -d queries.bin -l ${MAX_S}, then -l ${SOAK_S} -Q ${rate} -S 10`,
      '```',
    ];
    if (flaps.refused.length) lines.push('', `Webhooks refused: ${flaps.refused.slice(0, 5).join(' | ')}`);
    if (writes.failed.length) lines.push('', `Writes failed: ${writes.failed.slice(0, 5).join(' | ')}`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
    log(`raw outputs in ${path.relative(ROOT, outDir)}`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
