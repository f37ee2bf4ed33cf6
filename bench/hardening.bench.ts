/**
 * Hardening benchmark (issue 16): UDP DNS latency at idle, during the largest topology upload and
 * during back-to-back anycast simulations of a 200,000-AS topology, plus the upload's time and
 * whether the API (a database read) kept answering meanwhile. georoute runs as its own process
 * (dist/src/main.js, embedded database); this process only sends queries and requests.
 * The DNS prober and the uploader are small processes of their own (see runProber, runUploader).
 * Two more windows separate the heavy work's cost from that of the requests that carry it: the
 * upload window's API reads (GET records every 100 ms) without an upload, and the simulation
 * requests again once the worker answers them from its cache.
 * Environment: GEOROUTE_NODE_ARGS (node options for the server), BENCH_SERVER_STDOUT (a file the
 * server's output is appended to).
 * Usage: node dist/bench/hardening.bench.js [--ases 200000] [--idle-ms 5000] [--simulations 12] [--every-ms 10] [--no-wait-fill] [--client-nice 0] [--client-priority 0] [--client-slice-us 0] [--client-realtime] [--rounds 1] [--apply-services 0] [--slow] [--workers 0,1]
 * (--every-ms: the gap between DNS queries; smaller gaps give more answers per window, a finer p99;
 * --rounds: idle, upload and simulations repeated on the same server, each kind's windows pooled;
 * --client-priority: the prober's nice value, negative to keep the client's own waits for a CPU out
 * of the latencies where permitted; --client-slice-us: the CPU slice the prober's threads ask for
 * (see runProber); --client-realtime: the prober in the real-time class (root, see
 * measure()); --simulations N: N distinct questions (the sites withdrawn); --apply-services
 * N: after the rounds, a config/apply of N services, a full re-apply and the zone export of those
 * services, DNS measured during each).
 * --workers: the DNS_WORKERS values measured, one server each, in turn on the same topology (0 =
 * UDP answered on the event loop that also receives the upload; 1 = in a worker process). The end
 * is a Markdown table for bench/RESULTS.md with each one's p99 against its own idle p99.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as dnsPacket from 'dns-packet';
import { generateTopology, placeSites, toCaidaText } from './topology-generator';
import { requestCpuSlice } from '../src/common/cpu-slice';
import { MAX_CACHED_RESULTS } from '../src/anycast/anycast-worker.protocol';

/**
 * The first `count` sets of `names` to withdraw, smallest first (each name alone, then each pair,
 * then each triple, ...), in index order within a size.
 */
function withdrawnSets(names: readonly string[], count: number): string[][] {
  const sets: string[][] = [];
  const grow = (chosen: number[], from: number, size: number): void => {
    if (sets.length >= count) return;
    if (chosen.length === size) {
      sets.push(chosen.map((i) => names[i]));
      return;
    }
    for (let i = from; i < names.length; i++) grow([...chosen, i], i + 1, size);
  };
  for (let size = 1; size < names.length && sets.length < count; size++) grow([], 0, size);
  return sets;
}

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
 * window; {stop} ends it and answers a ProbeWindow (lost = no answer within 2 s).
 *
 * It allocates nothing a query: one query encoded once (only its id changes), send times in an
 * array indexed by id, latencies in a preallocated array. A `perf sched` trace of the earlier
 * prober (a new packet, Map entry and array slot a query) showed its own V8 helper threads taking
 * a core for up to 3 ms, in idle windows as in busy ones; such a pause is the client's, not the
 * server's. With `--client-priority N` (N < 0, permitted for root or with CAP_SYS_NICE) every
 * thread of it runs at nice N, as a client on another machine would not wait for this one's CPUs.
 * A nice value changes a thread's share of the CPUs, not how soon it runs when woken (on EEVDF
 * kernels a woken thread waits up to the running thread's slice, 1.4 ms here); with
 * `--client-slice-us N` every thread of the prober asks for a slice of N µs (src/common/cpu-slice.ts,
 * as the server's DNS threads do), so an answer's arrival is seen when it arrives.
 */
function runProber(port: number, sliceUs: number): void {
  if (sliceUs > 0) {
    const slice = requestCpuSlice(sliceUs, 'process');
    if (slice.reason !== null) console.error(`prober: --client-slice-us ${sliceUs} not applied: ${slice.reason}`);
  }
  const socket = dgram.createSocket('udp4');
  const query = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'www.example.com' }] });
  /** performance.now() at the send of each id still unanswered; 0 = none. */
  const sentAt = new Float64Array(65536);
  let outstanding = 0;
  const MAX_ANSWERS = 1 << 20;
  const latencies = new Float64Array(MAX_ANSWERS);
  const sentInWindow = new Float64Array(MAX_ANSWERS);
  let answers = 0;
  let windowStart = 0;
  /** CLOCK_MONOTONIC at the window's start, in seconds (what `perf record -k mono` stamps events with). */
  let monotonicStart = 0;
  let running = false;
  let id = 0;
  socket.on('message', (msg) => {
    const now = performance.now();
    const answered = msg.readUInt16BE(0);
    const t = sentAt[answered];
    if (t === 0) return;
    sentAt[answered] = 0;
    outstanding--;
    if (answers < MAX_ANSWERS) {
      latencies[answers] = now - t;
      sentInWindow[answers] = t - windowStart;
      answers++;
    }
  });
  const tick = (everyMs: number) => {
    if (!running) return;
    id = (id + 1) & 0xffff;
    if (sentAt[id] === 0) outstanding++;
    sentAt[id] = performance.now();
    query.writeUInt16BE(id, 0);
    socket.send(query, port, '127.0.0.1');
    setTimeout(tick, everyMs, everyMs);
  };
  process.on('message', (m: { cmd: 'start'; everyMs: number } | { cmd: 'stop' } | { cmd: 'exit' }) => {
    if (m.cmd === 'start') {
      answers = 0;
      sentAt.fill(0);
      outstanding = 0;
      windowStart = performance.now();
      monotonicStart = Number(process.hrtime.bigint()) / 1e9;
      running = true;
      tick(m.everyMs);
    } else if (m.cmd === 'stop') {
      running = false;
      setTimeout(() => {
        const window: ProbeWindow = { latencies: [], lost: outstanding, slow: [], monotonicStart };
        for (let i = 0; i < answers; i++) {
          window.latencies.push(latencies[i]);
          if (latencies[i] > 2) window.slow.push([Math.round(sentInWindow[i]), Math.round(latencies[i] * 10) / 10]);
        }
        process.send!(window);
        sentAt.fill(0);
        outstanding = 0;
      }, 2000);
    } else {
      socket.close();
      process.disconnect();
    }
  });
}

/** One window's answers: latencies (ms), queries lost, the answers over 2 ms as [ms into the window, latency], and the window's start on CLOCK_MONOTONIC (s). */
interface ProbeWindow {
  latencies: number[];
  lost: number;
  slow: [number, number][];
  monotonicStart: number;
}

class Prober {
  private readonly child: ChildProcess;
  constructor(port: number, sliceUs: number) {
    this.child = fork(__filename, ['--probe', String(port), String(sliceUs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  /** Every thread of the prober at nice `value` (negative: before the server's threads); false where not permitted. */
  prioritise(value: number): boolean {
    try {
      for (const tid of fs.readdirSync(`/proc/${this.child.pid}/task`)) os.setPriority(Number(tid), value);
      return true;
    } catch {
      return false;
    }
  }
  /**
   * The prober's JavaScript thread (the one that sends and receives) in the real-time class
   * (SCHED_FIFO 1, `chrt`; root or CAP_SYS_NICE): null is success, else why not. Only that
   * thread: V8's helper threads of the prober, real-time too, held a CPU for 2.7-3.9 ms in a
   * trace while the server's DNS worker waited behind them.
   */
  realtime(): string | null {
    const r = spawnSync('chrt', ['--fifo', '--pid', '1', String(this.child.pid)], { encoding: 'utf8' });
    if (r.error) return r.error.message;
    return r.status === 0 ? null : (r.stderr.trim() || `chrt exited with ${r.status}`);
  }
  /** Probes every `everyMs` until `until` settles; the window's latencies. */
  async during(everyMs: number, until: Promise<unknown>): Promise<ProbeWindow> {
    this.child.send({ cmd: 'start', everyMs });
    await until.catch(() => undefined);
    const result = new Promise<ProbeWindow>((resolve) => this.child.once('message', resolve as (m: unknown) => void));
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
 * CPU while the sender's GC threads ran, which is the client's cost, not the server's. Each
 * message {id, cmd: 'upload'} or {id, cmd: 'request', method, path, body} is answered with
 * {id, status, ms, text}; requests go over keep-alive connections.
 */
function runUploader(port: number, file: string): void {
  // Between rounds it waits for the next request; the parent's disconnect ends it (keep-alive sockets or not).
  process.on('disconnect', () => process.exit(0));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  process.on('message', (m: ClientCommand) => {
    const t0 = performance.now();
    const answer = (status: number, text: string) => process.send!({ id: m.id, status, ms: performance.now() - t0, text });
    const upload = m.cmd === 'upload';
    const body = upload ? null : m.body === undefined ? null : Buffer.from(m.body);
    const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${TOKEN}` };
    if (upload) Object.assign(headers, { 'content-type': 'text/plain', 'content-length': String(fs.statSync(file).size) });
    else if (body !== null) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(body.length) });
    const req = http.request({ host: '127.0.0.1', port, agent, method: upload ? 'PUT' : m.method, path: upload ? '/v1/anycast/topology' : m.path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => answer(res.statusCode ?? 0, text));
    });
    req.on('error', (err) => answer(0, String(err)));
    if (upload) fs.createReadStream(file).pipe(req);
    else req.end(body ?? undefined);
  });
}

/** What the parent asks the client process: the upload, or any other API request. */
type ClientCommand = { id: number; cmd: 'upload' } | { id: number; cmd: 'request'; method: string; path: string; body?: string };

/**
 * The client process (runUploader): the topology upload and, since the same reasoning holds for
 * them, the API requests of the windows (the reads during the upload, the simulations). Sent with
 * fetch from this process, each request cost this large-heap process ~1 ms of CPU and its garbage
 * collection on the same two cores as the server.
 */
class Uploader {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (m: { status: number; ms: number; text: string }) => void>();
  constructor(port: number, file: string) {
    this.child = fork(__filename, ['--upload', String(port), file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: { id: number; status: number; ms: number; text: string }) => {
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
  }
  /** Sends the file; the answer as api() gives it. */
  send(): Promise<{ status: number; ms: number; json: unknown }> {
    return this.ask({ cmd: 'upload' });
  }
  /** An API request from the client process, answered as api() answers. */
  api(method: string, path: string, body?: string): Promise<{ status: number; ms: number; json: unknown }> {
    return this.ask({ cmd: 'request', method, path, body });
  }
  /** One GET /healthz from the client process (before measuring: its HTTP code compiled outside the windows). */
  warm(): Promise<{ status: number; ms: number; json: unknown }> {
    return this.api('GET', '/healthz');
  }
  private ask(command: { cmd: 'upload' } | { cmd: 'request'; method: string; path: string; body?: string }): Promise<{ status: number; ms: number; json: unknown }> {
    const id = this.nextId++;
    const answer = new Promise<{ status: number; ms: number; json: unknown }>((resolve) =>
      this.waiting.set(id, (m) => resolve({ status: m.status, ms: m.ms, json: m.text.startsWith('{') ? JSON.parse(m.text) : m.text })),
    );
    this.child.send({ ...command, id } as ClientCommand);
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
  /** Rounds pooled (--rounds); uploadMs is their median. */
  rounds: number;
  idle: number;
  upload: number;
  uploadMax: number;
  simulations: number;
  simulationsMax: number;
  /** p99 with the upload window's API reads but no upload. */
  apiOnly: number;
  /** p99 during the same simulation requests answered from the worker's cache. */
  simCached: number;
  uploadMs: number;
  /** DNS queries unanswered within 2 s, every window. */
  lost: number;
  /** --apply-services: one line per apply window. */
  applies: string[];
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
  console.log('| DNS_WORKERS | rounds | DNS idle p99 | upload: time, DNS p99 / max (÷ idle) | API reads alone: p99 (÷ idle); upload ÷ it | simulations: DNS p99 / max (÷ idle) | cached simulations: p99 (÷ idle); simulations ÷ it | lost |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.workers} | ${r.rounds} | ${r.idle.toFixed(2)} ms | ${r.uploadMs.toFixed(0)} ms, ${r.upload.toFixed(2)} / ${r.uploadMax.toFixed(1)} ms (${ratio(r.upload, r.idle)}) | ${r.apiOnly.toFixed(2)} ms (${ratio(r.apiOnly, r.idle)}); ${ratio(r.upload, r.apiOnly)} | ${r.simulations.toFixed(2)} / ${r.simulationsMax.toFixed(1)} ms (${ratio(r.simulations, r.idle)}) | ${r.simCached.toFixed(2)} ms (${ratio(r.simCached, r.idle)}); ${ratio(r.simulations, r.simCached)} | ${r.lost} |`,
    );
  }
  for (const r of rows) for (const line of r.applies) console.log(`- DNS_WORKERS=${r.workers}: ${line}`);
}

/** GET records every 100 ms while `going()`, each answer's status and time pushed to `into`. */
async function pollRecords(client: Uploader, going: () => boolean, into: { status: number; ms: number }[]): Promise<void> {
  while (going()) {
    const r = await client.api('GET', '/v1/zones/example.com/records');
    into.push({ status: r.status, ms: r.ms });
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function measure(workers: number, { sites, file, bytes }: Topology): Promise<Measured> {
  const ases = arg('ases', 200_000);
  const idleMs = arg('idle-ms', 5000);
  const simulations = arg('simulations', 12);
  const everyMs = arg('every-ms', 10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-bench-hardening-'));
  const g = await start(path.join(dir, 'data'), workers);
  const clientSliceUs = arg('client-slice-us', 0);
  const prober = new Prober(g.dns, clientSliceUs);
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
    const clientPriority = arg('client-priority', 0);
    const prioritised = clientPriority !== 0 && prober.prioritise(clientPriority);
    // --client-realtime: the prober in the real-time class, so it neither waits for the server's
    // threads when an answer arrives nor is preempted by the DNS thread it has just woken (a trace
    // caught the prober preempted right after its send by the DNS worker, which then answered and
    // slept, and the CPU passing to a thread of the main process for 3.4 ms while the answer
    // waited in the prober's socket). A client on another machine meets neither.
    let realtime = 'no';
    if (process.argv.includes('--client-realtime')) {
      const refused = prober.realtime();
      if (refused !== null) throw new Error(`--client-realtime: ${refused}`);
      realtime = 'SCHED_FIFO 1 (its JavaScript thread)';
    }
    // --rounds N: idle, upload, simulations N times on the same server (each upload replaces the
    // topology: parsed, compressed, stored and switched to again). The windows of a kind are pooled,
    // so each p99 stands on N times the answers, and a burst of this VM's own noise (a kernel
    // thread, another guest) weighs on one window in N rather than decide the ratio.
    const rounds = arg('rounds', 1);
    const idle: ProbeWindow[] = [];
    const duringUpload: ProbeWindow[] = [];
    const duringSim: ProbeWindow[] = [];
    const apiOnly: ProbeWindow[] = [];
    const simCached: ProbeWindow[] = [];
    const uploadMs: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      idle.push(await prober.during(everyMs, new Promise((r) => setTimeout(r, idleMs))));
      // The same API reads as during the upload (GET records every 100 ms), for as long as an upload
      // takes, without the upload: what API traffic alone costs DNS sharing the event loop.
      const apiAlone: { status: number; ms: number }[] = [];
      let polling = true;
      const alone = pollRecords(uploader, () => polling, apiAlone);
      apiOnly.push(await prober.during(everyMs, new Promise((r) => setTimeout(r, uploadMs.length > 0 ? pct(uploadMs, 50) : 2500)).then(() => (polling = false))));
      await alone;

      let uploading = true;
      const apiDuring: { status: number; ms: number }[] = [];
      const poll = pollRecords(uploader, () => uploading, apiDuring);
      const uploaded = uploader.send().finally(() => (uploading = false));
      duringUpload.push(await prober.during(everyMs, uploaded));
      const up = await uploaded;
      uploadMs.push(up.ms);
      await poll;
      if (up.status !== 200) throw new Error(`upload: ${up.status} ${JSON.stringify(up.json).slice(0, 300)}`);

      // Distinct questions (the sites withdrawn: each alone, then each pair, then each triple), so
      // every simulation of the window is computed; the cached window repeats the last of them
      // that the worker's cache holds.
      const questions = withdrawnSets(sites.map((s) => `${s.region}-1`), simulations);
      const simulate = async (times: number[], asked: string[][]) => {
        for (const withdrawn of asked) {
          const r = await uploader.api('POST', '/v1/anycast/simulate', JSON.stringify({ withdrawn, useHealth: false, clients: [] }));
          if (r.status !== 200) throw new Error(`simulate: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
          times.push(r.ms);
        }
      };
      const simMs: number[] = [];
      const simulated = simulate(simMs, questions);
      duringSim.push(await prober.during(everyMs, simulated));
      await simulated;
      // The last questions again, as many as the worker keeps results of (MAX_CACHED_RESULTS):
      // it answers them from its cache, so this is the simulations' API traffic without their
      // work. Repeated for a second at least (eight cached answers take ~50 ms: too few DNS
      // answers for a p99).
      const cachedMs: number[] = [];
      const recent = questions.slice(-MAX_CACHED_RESULTS);
      const cached = (async () => {
        const until = performance.now() + 1000;
        do await simulate(cachedMs, recent);
        while (performance.now() < until);
      })();
      simCached.push(await prober.during(everyMs, cached));
      await cached;
      const bad = apiDuring.filter((r) => r.status !== 200).length;
      const [i, a, u, sim, c] = [idle[round - 1], apiOnly[round - 1], duringUpload[round - 1], duringSim[round - 1], simCached[round - 1]];
      if (round === 1) {
        console.log(`- topology: ${ases} ASes, ${(up.json as { summary: { links: number } }).summary.links} links, ${(bytes / 1e6).toFixed(1)} MB CAIDA text; 8 dense sites`);
        console.log(`- routing tables before measuring: ${fill}; DNS queried every ${everyMs} ms; uploader at nice ${clientNice}; prober at nice ${prioritised ? clientPriority : 0}, real-time ${realtime}, CPU slice ${clientSliceUs > 0 ? `${clientSliceUs} µs` : "the kernel's"}; server DNS_CPU_SLICE_US=${process.env.DNS_CPU_SLICE_US ?? '100 (default)'}`);
      }
      console.log(`- round ${round} of ${rounds}: DNS idle: ${fmt(i)}`);
      console.log(`  API reads alone (GET records every 100 ms, ${apiAlone.length} requests): DNS ${fmt(a)}`);
      console.log(`  server: ${g.loaded[round - 1] ?? '?'}`);
      console.log(`  upload: ${up.ms.toFixed(0)} ms; API (GET records, every 100 ms) meanwhile: ${apiDuring.length} requests, ${bad} not 200, slowest ${Math.max(...apiDuring.map((r) => r.ms)).toFixed(0)} ms; DNS meanwhile: ${fmt(u)}`);
      console.log(`  ${simulations} distinct simulations back to back: ${simMs.map((m) => m.toFixed(0)).join(', ')} ms; DNS meanwhile: ${fmt(sim)}`);
      console.log(`  the last ${recent.length} again, answered from the worker's cache, for a second or more: ${cachedMs.length} requests, median ${pct(cachedMs, 50).toFixed(0)} ms; DNS meanwhile: ${fmt(c)}`);
      if (process.argv.includes('--slow')) {
        for (const [name, r] of [['idle', i], ['api', a], ['upload', u], ['simulations', sim], ['cached', c]] as const) {
          console.log(`  answers over 2 ms (${name}, from CLOCK_MONOTONIC ${r.monotonicStart.toFixed(6)} s), [ms into the window, latency]: ${JSON.stringify(r.slow)}`);
        }
      }
    }
    // --apply-services N: a config/apply of N services (20 regions, 3 each) into a new zone, then
    // the same document with every service's TTL changed (a full re-apply): DNS meanwhile against
    // an idle window just before each. 0 (the default) skips it.
    const applyServices = arg('apply-services', 0);
    const applies: string[] = [];
    if (applyServices > 0) {
      const regions = Array.from({ length: 20 }, (_, r) => ({ name: `apply-r${r}`, countryCode: 'US', location: { latitude: ((r * 7) % 120) - 60, longitude: ((r * 17) % 340) - 170 }, endpoints: { ipv4: [`10.0.${r}.1`] } }));
      const services = (ttl: number) =>
        Array.from({ length: applyServices }, (_, k) => ({ fqdn: `s${k}.apply.test`, policy: 'proximity', regions: [0, 7, 13].map((o) => `apply-r${(k + o) % 20}`), residency: 'none', ttl }));
      for (const [what, ttl] of [['apply', 30], ['re-apply, every TTL changed', 31]] as const) {
        const before = await prober.during(everyMs, new Promise((r) => setTimeout(r, idleMs)));
        const body = JSON.stringify({ zones: [{ name: 'apply.test', nameservers: ['ns1.apply.test'], hostmaster: 'hostmaster.apply.test', ttl: 3600, negativeTtl: 60 }], regions, services: services(ttl) });
        const applied = uploader.api('POST', '/v1/config/apply', body);
        const w = await prober.during(everyMs, applied);
        const r = await applied;
        if (r.status !== 200) throw new Error(`config/apply: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
        const line = `${applyServices}-service ${what}: ${r.ms.toFixed(0)} ms; DNS idle just before p99 ${pct(before.latencies, 99).toFixed(2)} ms; meanwhile ${fmt(w)} (${(pct(w.latencies, 99) / pct(before.latencies, 99)).toFixed(1)} x)`;
        console.log(`- ${line}`);
        if (process.argv.includes('--slow')) console.log(`  answers over 2 ms (from CLOCK_MONOTONIC ${w.monotonicStart.toFixed(6)} s), [ms into the window, latency]: ${JSON.stringify(w.slow)}`);
        applies.push(line);
      }
      // The zone export of those 10,000 services (a default answer per service, BIND text).
      const before = await prober.during(everyMs, new Promise((r) => setTimeout(r, idleMs)));
      const exported = uploader.api('GET', '/v1/zones/apply.test/export');
      const w = await prober.during(everyMs, exported);
      const r = await exported;
      if (r.status !== 200) throw new Error(`zone export: ${r.status}`);
      const line = `zone export of ${applyServices} services (${String(r.json).length} bytes): ${r.ms.toFixed(0)} ms; DNS idle just before p99 ${pct(before.latencies, 99).toFixed(2)} ms; meanwhile ${fmt(w)} (${(pct(w.latencies, 99) / pct(before.latencies, 99)).toFixed(1)} x)`;
      console.log(`- ${line}`);
      if (process.argv.includes('--slow')) console.log(`  answers over 2 ms (from CLOCK_MONOTONIC ${w.monotonicStart.toFixed(6)} s), [ms into the window, latency]: ${JSON.stringify(w.slow)}`);
      applies.push(line);
    }
    const pooled = (ws: ProbeWindow[]) => ({ latencies: ws.flatMap((w) => w.latencies), lost: ws.reduce((n, w) => n + w.lost, 0) });
    const [pIdle, pUpload, pSim, pApi, pCached] = [pooled(idle), pooled(duringUpload), pooled(duringSim), pooled(apiOnly), pooled(simCached)];
    if (rounds > 1) {
      console.log(`- pooled over ${rounds} rounds: idle ${fmt(pIdle)}; API reads alone ${fmt(pApi)}; upload ${fmt(pUpload)}; simulations ${fmt(pSim)}; cached simulations ${fmt(pCached)}`);
      const each = (ws: ProbeWindow[]) => ws.map((w, k) => (pct(w.latencies, 99) / pct(idle[k].latencies, 99)).toFixed(1)).join(' ');
      console.log(`- each round's p99 ÷ its own idle p99: upload ${each(duringUpload)}; simulations ${each(duringSim)}`);
    }
    return {
      workers,
      rounds,
      idle: pct(pIdle.latencies, 99),
      upload: pct(pUpload.latencies, 99),
      uploadMax: Math.max(...pUpload.latencies),
      simulations: pct(pSim.latencies, 99),
      simulationsMax: Math.max(...pSim.latencies),
      apiOnly: pct(pApi.latencies, 99),
      simCached: pct(pCached.latencies, 99),
      uploadMs: pct(uploadMs, 50),
      lost: pIdle.lost + pUpload.lost + pSim.lost + pApi.lost + pCached.lost,
      applies,
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
  runProber(Number(process.argv[3]), Number(process.argv[4]));
} else if (process.argv[2] === '--upload') {
  runUploader(Number(process.argv[3]), process.argv[4]);
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
