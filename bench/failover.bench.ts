/**
 * Failover latency benchmark: time from the deciding observation (an accepted webhook, or the
 * failed probe that reaches unhealthyThreshold) to the first changed DNS answer.
 *
 *   bench/failover.sh [--webhook-trials 200] [--probe-trials 60] [--poll-gap-ms 0]
 * (builds with tsc, then runs `node dist/bench/failover.bench.js`).
 *
 * georoute runs as a separate process (`node dist/src/main.js`, embedded database in a fresh
 * DATA_DIR, ports chosen by the app and read from its "ready" log line). This process runs the
 * HTTP endpoint that region A's probe checks, sends the signed webhooks, and polls DNS over a
 * raw UDP socket, so every timestamp below comes from one clock (process.hrtime) in one process.
 *
 * Webhook trials: t0 = just before the signed `unhealthy` webhook is written ('from send'), or
 * when the 202's headers arrive ('from 202'); t1 = arrival of the first DNS reply naming B
 * (queries back to back, one outstanding). Then `healthy` is sent and A awaited (recovery).
 *
 * Probe trials (intervalSeconds 1, unhealthyThreshold 1): the endpoint switches to 503; t0 = the
 * moment the first probe request after the switch is answered (stamped just before the 503 is
 * written); t1 = arrival of the first DNS reply naming B, polled back to back from t0. Then the
 * endpoint switches back to 200 and first 200 -> A again is recorded as recovery.
 *
 * FAILOVER_NODE_ARGS adds node options for the georoute process (e.g. --cpu-prof, or -r of an
 * instrumentation script); --poll-gap-ms N pauses between measured queries (default 0).
 *
 * Only 127.0.0.1 traffic. Prints a Markdown section for bench/RESULTS.md on stdout and writes
 * the raw samples to bench/out/failover-results.json.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { signWebhook } from '../src/health/webhook-verifier';

const REPO = path.resolve(__dirname, '../..');
const TARGET_MS = 100;
const ADMIN_TOKEN = 'bench-failover-admin-token-0123456789';
const SECRET = 'whsec_' + Buffer.from('bench-failover-region-secret-0123456789').toString('base64');
const ZONE = 'example.com';
const FQDN = 'app.example.com';
const REGION_A = 'bench-a';
const REGION_B = 'bench-b';
const IP_A = '192.0.2.1';
const IP_B = '192.0.2.2';
const WARMUP_WEBHOOK = 10;
const WARMUP_PROBE = 2;

interface Args {
  webhookTrials: number;
  probeTrials: number;
  /** Pause between measured DNS queries; 0 = back to back (one outstanding). */
  pollGapMs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { webhookTrials: 200, probeTrials: 60, pollGapMs: 0 };
  const names: Record<string, keyof Args> = { '--webhook-trials': 'webhookTrials', '--probe-trials': 'probeTrials', '--poll-gap-ms': 'pollGapMs' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < (key === 'pollGapMs' ? 0 : 1)) {
      throw new Error(`usage: [--webhook-trials N] [--probe-trials N] [--poll-gap-ms N] (bad ${argv[i]} ${argv[i + 1] ?? ''})`);
    }
    args[key] = value;
  }
  return args;
}

const now = () => process.hrtime.bigint();
const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t));

// ---------------------------------------------------------------------------------------------
// georoute as a child process

interface Georoute {
  child: ChildProcess;
  httpPort: number;
  dnsPort: number;
  log: string[];
}

let georoute: ChildProcess | null = null;
let georouteProblems = 0;
const problemMessages = new Map<string, number>();
let scratchDir = '';

function startGeoroute(dir: string): Promise<Georoute> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    DNS_HOST: '127.0.0.1',
    DNS_PORT: '0',
    DATA_DIR: path.join(dir, 'data'),
    CONFIG_FILE: 'none',
    ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    INSTANCE_ID: 'bench-failover',
    RRL_EXEMPT: '127.0.0.0/8,::1',
    // The probed origins run on loopback, which the outbound policy refuses unless allowed.
    OUTBOUND_ALLOW: '127.0.0.0/8,::1',
    // One process, as the recorded runs measured (DNS_WORKERS=auto adds a worker on two CPUs or
    // more); DNS_WORKERS=1 in the environment measures a change reaching a worker.
    DNS_WORKERS: process.env.DNS_WORKERS ?? '0',
  };
  delete env.DATABASE_URL; // always the embedded database in the fresh DATA_DIR
  delete env.WEBHOOK_SECRET;
  delete env.TRUSTED_PROXIES;
  // FAILOVER_NODE_ARGS: extra node options for georoute (e.g. --cpu-prof, -r an instrumentation script).
  const nodeArgs = (process.env.FAILOVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(REPO, 'dist/src/main.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  georoute = child;
  fs.writeFileSync(path.join(dir, 'georoute.pid'), String(child.pid));
  const log: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`georoute did not report ready within 60 s:\n${log.slice(-20).join('\n')}`)), 60_000);
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        log.push(line);
        if (log.length > 2000) log.splice(0, 1000);
        const level = /"level":(\d+)/.exec(line);
        if (level && Number(level[1]) >= 40) {
          georouteProblems++;
          const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line;
          const key = msg.replace(/\d+/g, 'N').slice(0, 160);
          problemMessages.set(key, (problemMessages.get(key) ?? 0) + 1);
        }
        const m = /ready in \d+ ms: HTTP http:\/\/127\.0\.0\.1:(\d+) DNS 127\.0\.0\.1:(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve({ child, httpPort: Number(m[1]), dnsPort: Number(m[2]), log });
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => log.push(...chunk.split('\n').filter(Boolean).map((l) => `stderr: ${l}`)));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (georoute === child) georoute = null;
      reject(new Error(`georoute exited (code ${code}, signal ${signal}) before ready:\n${log.slice(-20).join('\n')}`));
    });
  });
}

/** Direct children of a process (georoute's embedded database server), by /proc. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) out.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return out;
}

/** SIGTERM (georoute then stops its embedded database), SIGKILL to both after 15 s. */
async function stopGeoroute(): Promise<void> {
  const child = georoute;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const children = childPids(child.pid!);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
  for (const pid of children) {
    try {
      process.kill(pid, 0);
      process.kill(pid, 'SIGKILL'); // still there after georoute exited: orphaned
    } catch {
      // already gone
    }
  }
  georoute = null;
}

function removeScratch(): void {
  if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
}

process.on('exit', () => {
  // Abnormal exit only (the normal paths stop georoute first): ask it to stop, and leave the
  // scratch directory to bench/failover.sh, which waits for the PID before removing it.
  if (georoute && georoute.exitCode === null && georoute.signalCode === null) georoute.kill('SIGTERM');
  else removeScratch();
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void stopGeoroute().finally(() => {
      removeScratch();
      process.exit(130);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// admin API and webhooks

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

function request(port: number, method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string; sentAt: bigint; headersAt: bigint }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: url, agent: keepAlive, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        const headersAt = now();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, sentAt, headersAt }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const sentAt = now();
    req.end(body);
  });
}

async function api(port: number, method: string, url: string, body?: unknown): Promise<unknown> {
  const res = await request(port, method, url, { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.body}`);
  return res.body ? JSON.parse(res.body) : null;
}

function postWebhook(port: number, status: 'healthy' | 'unhealthy') {
  const raw = JSON.stringify({ region: REGION_A, status, reason: 'failover benchmark' });
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  return request(port, 'POST', '/v1/health/webhook', {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signWebhook(SECRET, id, ts, raw),
  }, raw);
}

// ---------------------------------------------------------------------------------------------
// DNS over UDP, by hand: one A query for FQDN, one outstanding at a time

function encodeQuery(name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(1, 1); // QTYPE A
  tail.writeUInt16BE(1, 3); // QCLASS IN
  return Buffer.concat([header, ...labels, tail]);
}

/** The IPv4 addresses in the answer section ('' entries never), or null for a reply to ignore. */
function answerAddresses(msg: Buffer, id: number): string[] | null {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id) return null;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let o = 12;
  const skipName = () => {
    for (;;) {
      const len = msg[o];
      if (len === 0) return void o++;
      if ((len & 0xc0) === 0xc0) return void (o += 2);
      o += len + 1;
    }
  };
  for (let i = 0; i < qd; i++) {
    skipName();
    o += 4;
  }
  const out: string[] = [];
  for (let i = 0; i < an; i++) {
    skipName();
    const type = msg.readUInt16BE(o);
    const rdlength = msg.readUInt16BE(o + 8);
    o += 10;
    if (type === 1 && rdlength === 4) out.push(`${msg[o]}.${msg[o + 1]}.${msg[o + 2]}.${msg[o + 3]}`);
    o += rdlength;
  }
  return out;
}

interface Reply {
  addrs: string[];
  sentAt: bigint;
  recvAt: bigint;
}

class DnsPoller {
  private readonly socket = dgram.createSocket('udp4');
  private readonly query = encodeQuery(FQDN);
  private id = 0;
  private waiting: { id: number; sentAt: bigint; resolve: (r: Reply) => void } | null = null;
  timeouts = 0;
  sent = 0;

  constructor(private readonly port: number) {}

  async open(): Promise<void> {
    this.socket.on('message', (msg) => {
      const recvAt = now();
      const w = this.waiting;
      if (!w) return;
      const addrs = answerAddresses(msg, w.id);
      if (addrs === null) return; // a late reply to a query that timed out
      this.waiting = null;
      w.resolve({ addrs, sentAt: w.sentAt, recvAt });
    });
    // Connected: send() then needs no address look-up per datagram.
    await new Promise<void>((r) => this.socket.connect(this.port, '127.0.0.1', () => r()));
  }

  /** One query; retried after 500 ms without a reply. */
  async ask(): Promise<Reply> {
    for (;;) {
      this.id = (this.id + 1) & 0xffff;
      this.query.writeUInt16BE(this.id, 0);
      const reply = new Promise<Reply | null>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting = null;
          resolve(null);
        }, 500);
        this.waiting = {
          id: this.id,
          sentAt: now(),
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
      });
      this.socket.send(this.query);
      this.sent++;
      const r = await reply;
      if (r) return r;
      this.timeouts++;
    }
  }

  /**
   * Queries back to back until `want` is the first address; returns that reply and how many
   * queries it took. `everyMs` > 0 sleeps between queries (for waits that are not measured).
   */
  async until(want: string, timeoutMs: number, everyMs = 0): Promise<Reply & { queries: number; prevRecvAt: bigint | null }> {
    const deadline = now() + BigInt(timeoutMs) * 1_000_000n;
    let queries = 0;
    let prevRecvAt: bigint | null = null;
    for (;;) {
      const r = await this.ask();
      queries++;
      if (r.addrs[0] === want) return { ...r, queries, prevRecvAt };
      prevRecvAt = r.recvAt;
      if (r.recvAt > deadline) throw new Error(`DNS answer did not become ${want} within ${timeoutMs} ms (last answer: ${r.addrs.join(',') || 'none'})`);
      if (everyMs > 0) await sleep(everyMs);
    }
  }

  close(): void {
    this.socket.close();
  }
}

// ---------------------------------------------------------------------------------------------
// the endpoint region A's probe checks

class HealthEndpoint {
  private failing = false;
  private readonly server = http.createServer((req, res) => this.handle(res));
  private onFailWritten: ((t: bigint) => void) | null = null;
  private onOkWritten: ((t: bigint) => void) | null = null;
  requests = 0;
  failed = 0;

  listen(): Promise<number> {
    return new Promise((r) => this.server.listen(0, '127.0.0.1', () => r((this.server.address() as AddressInfo).port)));
  }

  private handle(res: http.ServerResponse): void {
    this.requests++;
    // Stamped before the response is written (georoute can act on it before res.end returns
    // here): the measured latency includes writing the response, an upper bound by a few µs.
    const t = now();
    if (this.failing) {
      this.failed++;
      res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' });
      res.end('down');
      const fn = this.onFailWritten;
      this.onFailWritten = null;
      fn?.(t);
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end('ok');
      const fn = this.onOkWritten;
      this.onOkWritten = null;
      fn?.(t);
    }
  }

  /** Switches to 503 (or back to 200) and resolves with the time the first such response began to be written. */
  switchTo(failing: boolean, timeoutMs = 5000): Promise<bigint> {
    this.failing = failing;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no probe request within ${timeoutMs} ms`)), timeoutMs);
      const done = (t: bigint) => {
        clearTimeout(timer);
        resolve(t);
      };
      if (failing) this.onFailWritten = done;
      else this.onOkWritten = done;
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------
// statistics and report

function percentile(xs: readonly number[], p: number): number {
  // Nearest rank: the smallest sample with at least p % of the samples at or below it.
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

interface Row {
  name: string;
  samples: number[];
  target?: number;
}

const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

function table(rows: Row[]): string {
  const lines = ['| measurement | trials | p50 ms | p90 ms | p99 ms | max ms | target (p99) |', '|---|---:|---:|---:|---:|---:|---|'];
  for (const r of rows) {
    const p99 = percentile(r.samples, 99);
    const verdict = r.target === undefined ? '—' : `< ${r.target} ms: ${p99 < r.target ? 'met' : '**missed**'}`;
    lines.push(`| ${r.name} | ${r.samples.length} | ${f(percentile(r.samples, 50))} | ${f(percentile(r.samples, 90))} | ${f(p99)} | ${f(Math.max(...r.samples))} | ${verdict} |`);
  }
  return lines.join('\n');
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

function machine(): string {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? '?';
  return `${sh('nproc', [])} CPUs (nproc), ${model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}, Node ${process.version}`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = Date.now();
  const loadBefore = os.loadavg()[0];
  scratchDir = process.env.FAILOVER_SCRATCH ?? path.join(REPO, 'bench/out', `failover-${process.pid}`);
  fs.rmSync(scratchDir, { recursive: true, force: true });
  fs.mkdirSync(scratchDir, { recursive: true });

  const endpoint = new HealthEndpoint();
  const webPort = await endpoint.listen();
  process.stderr.write(`failover: starting georoute (embedded database in ${path.relative(REPO, scratchDir)}/data) ...\n`);
  const g = await startGeoroute(scratchDir);
  process.stderr.write(`failover: georoute pid ${g.child.pid}, HTTP ${g.httpPort}, DNS ${g.dnsPort}\n`);
  const dns = new DnsPoller(g.dnsPort);
  try {
    await dns.open();
    await api(g.httpPort, 'POST', '/v1/zones', { name: ZONE, nameservers: [`ns1.${ZONE}`], hostmaster: `hostmaster.${ZONE}` });
    await api(g.httpPort, 'POST', '/v1/regions', {
      name: REGION_A, countryCode: 'US', location: { latitude: 39, longitude: -77 }, endpoints: { ipv4: [IP_A] }, webhookSecret: SECRET,
      healthCheck: { type: 'http', target: `http://127.0.0.1:${webPort}/healthz`, intervalSeconds: 1, timeoutMs: 300, healthyThreshold: 1, unhealthyThreshold: 1 },
    });
    await api(g.httpPort, 'POST', '/v1/regions', { name: REGION_B, countryCode: 'US', location: { latitude: 45, longitude: -120 }, endpoints: { ipv4: [IP_B] } });
    await api(g.httpPort, 'POST', '/v1/services', { fqdn: FQDN, policy: 'failover', regions: [REGION_A, REGION_B], residency: 'none' });
    try {
      await dns.until(IP_A, 5000, 10);
    } catch (err) {
      const why = await api(g.httpPort, 'GET', `/v1/route?fqdn=${FQDN}&client=127.0.0.1`).catch((e: Error) => e.message);
      throw new Error(`${(err as Error).message}; GET /v1/route says: ${JSON.stringify(why)}`, { cause: err });
    }
    // One probe has passed: region A is healthy (not merely unknown) from here on.
    await endpoint.switchTo(false, 5000);
    await dns.until(IP_A, 5000, 10);

    // ---- webhooks
    const fromSend: number[] = [];
    const from202: number[] = [];
    const recovery: number[] = [];
    const pollGap: number[] = [];
    const raw: { kind: string; t0: string; t202?: string; t1: string }[] = [];
    process.stderr.write(`failover: ${WARMUP_WEBHOOK} + ${args.webhookTrials} webhook trials ...\n`);
    for (let i = 0; i < WARMUP_WEBHOOK + args.webhookTrials; i++) {
      const before = await dns.ask();
      if (before.addrs[0] !== IP_A) throw new Error(`webhook trial ${i}: answer is ${before.addrs.join(',')} before the webhook`);
      const sent = postWebhook(g.httpPort, 'unhealthy');
      const flipped = await dns.until(IP_B, 5000, args.pollGapMs);
      const res = await sent;
      if (res.status !== 202) throw new Error(`unhealthy webhook: ${res.status} ${res.body}`);
      if (i >= WARMUP_WEBHOOK) {
        fromSend.push(ms(res.sentAt, flipped.recvAt));
        from202.push(ms(res.headersAt, flipped.recvAt));
        if (flipped.prevRecvAt !== null) pollGap.push(ms(flipped.prevRecvAt, flipped.recvAt));
        raw.push({ kind: 'webhook', t0: String(res.sentAt), t202: String(res.headersAt), t1: String(flipped.recvAt) });
      }
      const back = postWebhook(g.httpPort, 'healthy');
      const restored = await dns.until(IP_A, 5000, args.pollGapMs);
      const backRes = await back;
      if (backRes.status !== 202) throw new Error(`healthy webhook: ${backRes.status} ${backRes.body}`);
      if (i >= WARMUP_WEBHOOK) recovery.push(ms(backRes.sentAt, restored.recvAt));
    }

    // ---- probes
    const probe: number[] = [];
    const probeRecovery: number[] = [];
    const probeQueries: number[] = [];
    process.stderr.write(`failover: ${WARMUP_PROBE} + ${args.probeTrials} probe trials (~2 s each) ...\n`);
    for (let i = 0; i < WARMUP_PROBE + args.probeTrials; i++) {
      const before = await dns.ask();
      if (before.addrs[0] !== IP_A) throw new Error(`probe trial ${i}: answer is ${before.addrs.join(',')} before the switch`);
      const failWritten = await endpoint.switchTo(true);
      const flipped = await dns.until(IP_B, 5000, args.pollGapMs);
      const okWritten = await endpoint.switchTo(false);
      const restored = await dns.until(IP_A, 5000, args.pollGapMs);
      if (i >= WARMUP_PROBE) {
        probe.push(ms(failWritten, flipped.recvAt));
        probeQueries.push(flipped.queries);
        probeRecovery.push(ms(okWritten, restored.recvAt));
        raw.push({ kind: 'probe', t0: String(failWritten), t1: String(flipped.recvAt) });
      }
      if ((i + 1) % 10 === 0) process.stderr.write(`failover:   ${i + 1} probe trials\n`);
    }

    const rtt: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const r = await dns.ask();
      rtt.push(ms(r.sentAt, r.recvAt));
    }

    const rows: Row[] = [
      { name: 'webhook `unhealthy`: send → first changed answer', samples: fromSend, target: TARGET_MS },
      { name: 'webhook `unhealthy`: 202 received → first changed answer (negative: DNS changed before the 202)', samples: from202 },
      { name: 'webhook `healthy` (recovery): send → A again', samples: recovery },
      { name: 'probe: failing 503 written → first changed answer (threshold reached)', samples: probe, target: TARGET_MS },
      { name: 'probe (recovery): first 200 written → A again', samples: probeRecovery },
      { name: 'DNS poll round trip (resolution of t1), steady state', samples: rtt },
    ];
    const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
    const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src']).split('\n').filter(Boolean).length;
    const loadAfter = os.loadavg()[0];
    const elapsed = Math.round((Date.now() - startedAt) / 1000);
    const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cmd = `bench/failover.sh --webhook-trials ${args.webhookTrials} --probe-trials ${args.probeTrials} --poll-gap-ms ${args.pollGapMs}`;
    const webhookOk = percentile(fromSend, 99) < TARGET_MS;
    const probeOk = percentile(probe, 99) < TARGET_MS;

    const md = [
      '## Failover latency (health observation → first changed DNS answer)',
      '',
      `- Date: ${date}; commit \`${commit}\`${dirty > 0 ? ` (working tree: ${dirty} modified file(s) under src/)` : ''}`,
      `- Machine: ${machine()}; 1-minute load average ${loadBefore.toFixed(2)} at the start, ${loadAfter.toFixed(2)} at the end (other work on the machine inflates the tails)`,
      `- Command: \`${cmd}\` (${elapsed} s in all)`,
      `- Setup: georoute as a separate process (\`node dist/src/main.js\`, embedded PGlite in a fresh DATA_DIR, LOG_LEVEL=info), ` +
        `zone ${ZONE}, failover service ${FQDN} = [${REGION_A}, ${REGION_B}] (residency none); ${REGION_A} has a webhookSecret and an http ` +
        'probe of an endpoint served by the benchmark (intervalSeconds 1, timeoutMs 300, healthy/unhealthyThreshold 1). ' +
        'All timestamps are process.hrtime in the benchmark process, which serves the probed endpoint, sends the webhooks (keep-alive ' +
        'connection) and polls DNS over UDP back to back (one query outstanding); t1 is the arrival of the first reply naming B. ' +
        'Only 127.0.0.1 traffic.',
      `- Trials: ${fromSend.length} webhook (after ${WARMUP_WEBHOOK} warm-up), ${probe.length} probe (after ${WARMUP_PROBE} warm-up); percentiles are nearest-rank ` +
        `(with ${probe.length} samples p99 is the ${Math.ceil(0.99 * probe.length)}th smallest).`,
      '',
      table(rows),
      '',
      `Targets: webhook p99 < ${TARGET_MS} ms ${webhookOk ? 'met' : '**missed**'}; probe p99 < ${TARGET_MS} ms after the threshold is reached ${probeOk ? 'met' : '**missed**'}. ` +
        `Polling: median ${percentile(probeQueries, 50)} queries from the failing probe to the changed answer; median gap between the last old and the first new reply ${f(percentile(pollGap.length ? pollGap : [0], 50))} ms; ` +
        `${dns.timeouts} DNS timeouts in ${dns.sent} queries; georoute logged ${georouteProblems} warnings/errors` +
        (georouteProblems > 0 ? ` (${[...problemMessages].map(([m, n]) => `${n}× "${m}"`).join('; ')})` : '') + '.',
      '',
    ].join('\n');
    process.stdout.write(md);
    fs.writeFileSync(
      path.join(REPO, 'bench/out/failover-results.json'),
      JSON.stringify({ date, commit, args, webhook: { fromSend, from202, recovery, pollGap }, probe: { probe, probeRecovery, probeQueries }, rtt, raw }, null, 1),
    );
  } catch (err) {
    process.stderr.write(`failover: georoute log (last lines):\n${g.log.slice(-30).join('\n')}\n`);
    throw err;
  } finally {
    dns.close();
    keepAlive.destroy();
    await endpoint.close();
    await stopGeoroute();
    removeScratch();
  }
}

main().catch((err) => {
  process.stderr.write(`failover: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
