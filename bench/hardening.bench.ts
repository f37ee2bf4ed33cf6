/**
 * Hardening benchmark (issue 16): UDP DNS latency at idle, during the largest topology upload and
 * during back-to-back anycast simulations of a 200,000-AS topology, plus the upload's time and
 * whether the API (a database read) kept answering meanwhile. georoute runs as its own process
 * (dist/src/main.js, embedded database); this process only sends queries and requests.
 * The DNS prober and the uploader are small processes of their own (see runProber, runUploader).
 * Environment: GEOROUTE_NODE_ARGS (node options for the server), BENCH_SERVER_STDOUT (a file the
 * server's output is appended to).
 * Usage: node dist/bench/hardening.bench.js [--ases 200000] [--idle-ms 5000] [--simulations 12] [--every-ms 10] [--no-wait-fill] [--client-nice 0] [--slow] [--workers 0,1]
 * (--every-ms: the gap between DNS queries; smaller gaps give more answers per window, a finer p99).
 * --workers: the DNS_WORKERS values measured, one server each, in turn on the same topology (0 =
 * UDP answered on the event loop that also receives the upload; 1 = in a worker process). The end
 * is a Markdown table for bench/RESULTS.md with each one's p99 against its own idle p99.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as dnsPacket from 'dns-packet';
import { generateTopology, placeSites, toCaidaText } from './topology-generator';

const REPO = path.resolve(__dirname, '../..');
const TOKEN = 'bench-hardening-token-0123456789';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

interface Server {
  child: ChildProcess;
  http: number;
  dns: number;
  /** Resolves on the next "routing tables filled" log line after the call (the start-up table fill is over). */
  tablesFilled: () => Promise<void>;
  /** The server's "topology loaded" log lines (their timings). */
  loaded: string[];
}

function start(dataDir: string, dnsWorkers: number): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env, HTTP_PORT: '0', DNS_PORT: '0', DATA_DIR: dataDir, CONFIG_FILE: 'none', ADMIN_TOKEN: TOKEN, RRL_EXEMPT: '127.0.0.0/8', LOG_LEVEL: 'info', DNS_WORKERS: String(dnsWorkers) };
  delete env.DATABASE_URL;
  // GEOROUTE_NODE_ARGS: node options for the server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = (process.env.GEOROUTE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, path.join(REPO, 'dist/src/main.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const waiting: (() => void)[] = [];
  const tablesFilled = () => new Promise<void>((resolve) => waiting.push(resolve));
  const loaded: string[] = [];
  // BENCH_SERVER_STDOUT=FILE: the server's output (its log lines, and what GEOROUTE_NODE_ARGS such
  // as --trace-gc prints) appended to FILE, for reading the windows afterwards.
  const copy = process.env.BENCH_SERVER_STDOUT ? fs.createWriteStream(process.env.BENCH_SERVER_STDOUT, { flags: 'a' }) : null;
  return new Promise((resolve, reject) => {
    let buf = '';
    let ready = false;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      copy?.write(c);
      buf += c;
      const m = ready ? null : /ready in \d+ ms: HTTP http:\/\/127\.0\.0\.1:(\d+) DNS 127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) {
        ready = true;
        resolve({ child, http: Number(m[1]), dns: Number(m[2]), tablesFilled, loaded });
      }
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      if (lines.some((l) => l.includes('routing tables filled'))) waiting.splice(0).forEach((r) => r());
      for (const l of lines) {
        const t = /"msg":"(topology loaded[^"]*)"/.exec(l);
        if (t) loaded.push(t[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`georoute exited (${code})`)));
  });
}

async function api(port: number, method: string, url: string, body?: string | Buffer, type = 'application/json'): Promise<{ status: number; ms: number; json: unknown }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}${url}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, body });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t0, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/**
 * The DNS prober runs in a process of its own (this file with `--probe <port>`): the process that
 * generates the topology and sends the 18 MB upload pauses for garbage collection and string
 * encoding, which would otherwise be counted as DNS latency. Messages: {start, everyMs} begins a
 * window; {stop} ends it and answers {latencies, lost} (lost = no answer within 2 s).
 */
function runProber(port: number): void {
  const socket = dgram.createSocket('udp4');
  const sent = new Map<number, number>();
  let latencies: number[] = [];
  let slow: [number, number][] = [];
  let windowStart = 0;
  let running = false;
  let id = 0;
  socket.on('message', (msg) => {
    const t = sent.get(msg.readUInt16BE(0));
    if (t !== undefined) {
      latencies.push(performance.now() - t);
      if (performance.now() - t > 2) slow.push([Math.round(t - windowStart), Math.round((performance.now() - t) * 10) / 10]);
      sent.delete(msg.readUInt16BE(0));
    }
  });
  const loop = async (everyMs: number) => {
    while (running) {
      id = (id + 1) & 0xffff;
      sent.set(id, performance.now());
      socket.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'www.example.com' }] }), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  process.on('message', (m: { cmd: 'start'; everyMs: number } | { cmd: 'stop' } | { cmd: 'exit' }) => {
    if (m.cmd === 'start') {
      latencies = [];
      slow = [];
      windowStart = performance.now();
      sent.clear();
      running = true;
      void loop(m.everyMs);
    } else if (m.cmd === 'stop') {
      running = false;
      setTimeout(() => {
        process.send!({ latencies, lost: sent.size, slow });
        sent.clear();
      }, 2000);
    } else {
      socket.close();
      process.disconnect();
    }
  });
}

class Prober {
  private readonly child: ChildProcess;
  constructor(port: number) {
    this.child = fork(__filename, ['--probe', String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  /** Probes every `everyMs` until `until` settles; the window's latencies. */
  async during(everyMs: number, until: Promise<unknown>): Promise<{ latencies: number[]; lost: number; slow: [number, number][] }> {
    this.child.send({ cmd: 'start', everyMs });
    await until.catch(() => undefined);
    const result = new Promise<{ latencies: number[]; lost: number; slow: [number, number][] }>((resolve) => this.child.once('message', resolve as (m: unknown) => void));
    this.child.send({ cmd: 'stop' });
    return result;
  }
  close(): void {
    if (this.child.connected) this.child.send({ cmd: 'exit' });
  }
}

/**
 * The uploader runs in a process of its own too (this file with `--upload <port> <file>`): it
 * streams the topology file to PUT /v1/anycast/topology in 64 KB pieces with a heap of a few MB,
 * as an operator's curl on another machine would. Sent by fetch from the process that generated
 * the topology, the 18 MB went through copies in a large heap, and that process's parallel
 * garbage collection took both cores of a small machine for several ms at a time: `perf sched
 * timehist` showed the server's event loop and the prober runnable but waiting 2-7.5 ms for a
 * CPU while the sender's GC threads ran, which is the client's cost, not the server's. The
 * request starts on {cmd: 'go'}; the answer comes back as {status, ms, text}. {cmd: 'warm'}
 * before the windows sends one GET /healthz (answered alike).
 */
function runUploader(port: number, file: string): void {
  process.on('message', (m: { cmd: 'warm' | 'go' }) => {
    if (m.cmd === 'warm') {
      // One small request first, so that compiling the HTTP client's code is not done inside the window.
      http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => res.resume().on('end', () => process.send!({ status: res.statusCode, ms: 0, text: '' })));
      return;
    }
    const t0 = performance.now();
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain', 'content-length': String(fs.statSync(file).size) };
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/v1/anycast/topology', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        process.send!({ status: res.statusCode, ms: performance.now() - t0, text });
        process.disconnect();
      });
    });
    req.on('error', (err) => {
      process.send!({ status: 0, ms: performance.now() - t0, text: String(err) });
      process.disconnect();
    });
    fs.createReadStream(file).pipe(req);
  });
}

class Uploader {
  private readonly child: ChildProcess;
  constructor(port: number, file: string) {
    this.child = fork(__filename, ['--upload', String(port), file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  /** Sends the file; the answer as api() gives it. */
  send(): Promise<{ status: number; ms: number; json: unknown }> {
    return this.ask('go');
  }
  /** One GET /healthz from the uploader process (before measuring). */
  warm(): Promise<{ status: number; ms: number; json: unknown }> {
    return this.ask('warm');
  }
  private ask(cmd: 'go' | 'warm'): Promise<{ status: number; ms: number; json: unknown }> {
    const answer = new Promise<{ status: number; ms: number; json: unknown }>((resolve) =>
      this.child.once('message', (m: { status: number; ms: number; text: string }) => resolve({ status: m.status, ms: m.ms, json: m.text.startsWith('{') ? JSON.parse(m.text) : m.text })),
    );
    this.child.send({ cmd });
    return answer;
  }
  nice(value: number): void {
    for (const tid of fs.readdirSync(`/proc/${this.child.pid}/task`)) os.setPriority(Number(tid), value);
  }
  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (r: { latencies: number[]; lost: number }) =>
  `${r.latencies.length} answers, ${r.lost} lost, p50 ${pct(r.latencies, 50).toFixed(2)} ms, p99 ${pct(r.latencies, 99).toFixed(2)} ms, max ${Math.max(...r.latencies).toFixed(1)} ms`;

interface Topology {
  sites: ReturnType<typeof placeSites>;
  /** The CAIDA text, in a file the uploader streams. */
  file: string;
  bytes: number;
}

/** One row of the summary: a server's three windows. */
interface Measured {
  workers: number;
  idle: number;
  upload: number;
  uploadMax: number;
  simulations: number;
  simulationsMax: number;
  uploadMs: number;
}

async function main(): Promise<void> {
  const ases = arg('ases', 200_000);
  const workersArg = process.argv.indexOf('--workers');
  const workerCounts = (workersArg > 0 ? process.argv[workersArg + 1] : '0,1').split(',').map(Number);
  if (workerCounts.some((n) => !Number.isInteger(n) || n < 0 || n > 64)) throw new Error('--workers: a comma-separated list of DNS_WORKERS values (0-64)');
  // Only the sites and the text (in a file, for the uploader process) are kept: the generated
  // graph (hundreds of MB of heap) would make this process's garbage collection (parallel, on both
  // cores of a small machine) compete with the server during the upload.
  const textDir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-bench-topology-'));
  const topology: Topology = (() => {
    const generated = generateTopology({ seed: 20240601, ases, peeringDensity: 'dense' });
    const file = path.join(textDir, 'topology.txt');
    const text = toCaidaText(generated);
    fs.writeFileSync(file, text);
    return { sites: placeSites(generated, { placement: 'dense', count: 8 }), file, bytes: Buffer.byteLength(text) };
  })();
  // The generated graph is garbage now: collected here, not by this process's parallel GC threads
  // during a window (they would take the server's CPU on a 2-core machine).
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  const rows: Measured[] = [];
  try {
    for (const workers of workerCounts) {
      console.log(`== DNS_WORKERS=${workers} (load average ${os.loadavg()[0].toFixed(2)})`);
      rows.push(await measure(workers, topology));
    }
  } finally {
    fs.rmSync(textDir, { recursive: true, force: true });
  }
  const ratio = (x: number, idle: number) => `${(x / idle).toFixed(1)} x`;
  console.log('');
  console.log(`Machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}; ${new Date().toISOString()}; command: node dist/bench/hardening.bench.js ${process.argv.slice(2).join(' ')}`);
  console.log('');
  console.log('| DNS_WORKERS | DNS idle p99 | upload: time, DNS p99 / max (÷ idle) | simulations: DNS p99 / max (÷ idle) |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.workers} | ${r.idle.toFixed(2)} ms | ${r.uploadMs.toFixed(0)} ms, ${r.upload.toFixed(2)} / ${r.uploadMax.toFixed(1)} ms (${ratio(r.upload, r.idle)}) | ${r.simulations.toFixed(2)} / ${r.simulationsMax.toFixed(1)} ms (${ratio(r.simulations, r.idle)}) |`);
  }
}

async function measure(workers: number, { sites, file, bytes }: Topology): Promise<Measured> {
  const ases = arg('ases', 200_000);
  const idleMs = arg('idle-ms', 5000);
  const simulations = arg('simulations', 12);
  const everyMs = arg('every-ms', 10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-bench-hardening-'));
  const g = await start(path.join(dir, 'data'), workers);
  const prober = new Prober(g.dns);
  const uploader = new Uploader(g.http, file);
  try {
    await api(g.http, 'POST', '/v1/zones', JSON.stringify({ name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' }));
    await api(g.http, 'POST', '/v1/zones/example.com/records', JSON.stringify({ name: 'www', type: 'A', values: ['192.0.2.80'] }));
    for (const s of sites) {
      const r = await api(g.http, 'POST', '/v1/regions', JSON.stringify({ name: `${s.region}-1`, countryCode: 'US', location: { latitude: s.latitude, longitude: s.longitude }, endpoints: { ipv4: ['192.0.2.1'] }, anycast: { originAsn: s.originAsn, upstreams: s.upstreams } }));
      if (r.status !== 201) throw new Error(`region ${s.region}: ${r.status} ${JSON.stringify(r.json)}`);
    }
    const filledAfterRegions = g.tablesFilled();
    // Measured in the steady state: the tables the geo database fills after start-up (and after the
    // regions above changed) take ~25 s of one core's slices and allocations, and their garbage
    // collection pauses would land in both windows. --no-wait-fill measures while they fill.
    let fill = 'not waited for';
    if (!process.argv.includes('--no-wait-fill')) {
      const t0 = Date.now();
      const filled = await Promise.race([filledAfterRegions.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 180_000).unref())]);
      fill = filled ? `filled (waited ${((Date.now() - t0) / 1000).toFixed(1)} s more after generating the topology)` : 'STILL FILLING after 180 s';
    }

    // --client-nice N: the uploader process runs at nice N, every thread of it (more "as if on
    // another machine" than its own small heap already makes it).
    const clientNice = arg('client-nice', 0);
    if (clientNice !== 0) uploader.nice(clientNice);
    await uploader.warm();
    const idle = await prober.during(everyMs, new Promise((r) => setTimeout(r, idleMs)));

    let uploading = true;
    const apiDuring: { status: number; ms: number }[] = [];
    const poll = (async () => {
      while (uploading) {
        const r = await api(g.http, 'GET', '/v1/zones/example.com/records');
        apiDuring.push({ status: r.status, ms: r.ms });
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const uploaded = uploader.send().finally(() => (uploading = false));
    const duringUpload = await prober.during(everyMs, uploaded);
    const up = await uploaded;
    const uploadMs = up.ms;
    await poll;
    if (up.status !== 200) throw new Error(`upload: ${up.status} ${JSON.stringify(up.json).slice(0, 300)}`);

    const simMs: number[] = [];
    const simulated = (async () => {
      for (let i = 0; i < simulations; i++) {
        const withdrawn = [`${sites[i % sites.length].region}-1`];
        const r = await api(g.http, 'POST', '/v1/anycast/simulate', JSON.stringify({ withdrawn, useHealth: false, clients: [] }));
        if (r.status !== 200) throw new Error(`simulate: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
        simMs.push(r.ms);
      }
    })();
    const duringSim = await prober.during(everyMs, simulated);
    await simulated;
    const bad = apiDuring.filter((r) => r.status !== 200).length;
    console.log(`- topology: ${ases} ASes, ${(up.json as { summary: { links: number } }).summary.links} links, ${(bytes / 1e6).toFixed(1)} MB CAIDA text; 8 dense sites`);
    console.log(`- routing tables before measuring: ${fill}; DNS queried every ${everyMs} ms; uploader at nice ${clientNice}`);
    console.log(`- DNS idle: ${fmt(idle)}`);
    console.log(`- server: ${g.loaded.join('; ')}`);
    console.log(`- upload: ${uploadMs.toFixed(0)} ms; API (GET records, every 100 ms) meanwhile: ${apiDuring.length} requests, ${bad} not 200, slowest ${Math.max(...apiDuring.map((r) => r.ms)).toFixed(0)} ms; DNS meanwhile: ${fmt(duringUpload)}`);
    if (process.argv.includes('--slow')) {
      for (const [name, r] of [['idle', idle], ['upload', duringUpload], ['simulations', duringSim]] as const) {
        console.log(`  answers over 2 ms (${name}), [ms into the window, latency]: ${JSON.stringify(r.slow)}`);
      }
    }
    console.log(`- ${simulations} simulations back to back: ${simMs.map((m) => m.toFixed(0)).join(', ')} ms; DNS meanwhile: ${fmt(duringSim)}`);
    return {
      workers,
      idle: pct(idle.latencies, 99),
      upload: pct(duringUpload.latencies, 99),
      uploadMax: Math.max(...duringUpload.latencies),
      simulations: pct(duringSim.latencies, 99),
      simulationsMax: Math.max(...duringSim.latencies),
      uploadMs,
    };
  } finally {
    prober.close();
    uploader.close();
    g.child.kill('SIGTERM');
    await new Promise((r) => g.child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--probe') {
  runProber(Number(process.argv[3]));
} else if (process.argv[2] === '--upload') {
  runUploader(Number(process.argv[3]), process.argv[4]);
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
