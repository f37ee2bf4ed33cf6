/**
 * The anycast worker: topology parsing and BGP simulation in a child process of its own, at the
 * lowest CPU priority (anycast-worker.client.ts says why and how), off the event loop that answers
 * DNS (a 199k-AS simulation takes seconds of CPU). It holds the installed topology and a small
 * result cache; the main process (AnycastWorker) sends one request at a time over the IPC channel
 * and gets plain data back. Protocol, every request carries an `id`, every reply echoes it:
 * - parse {format, chunks | file, compressed, keep}: joins the chunks (or reads the file) and parses
 *   them into a candidate; reply {summary} (and with `keep` the gzip of the text, in a file beside
 *   `file` for a file request) or a topology error.
 * - commit: the candidate becomes the topology (after the main process stored it); discard: drops it.
 * - simulate {sites, withdrawn, clients}: reply {sites, summary, routes, geoDnsAgreement}.
 * It exits when the main process goes (the IPC channel closes).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { SiteError, Topology, TopologyError, parseCaidaAsRel, parseTopologyJson, simulate, type SimulationResult, type Site } from '../routing/bgp';
import { MAX_CACHED_RESULTS, type WorkerReply, type WorkerRequest, type RouteView } from './anycast-worker.protocol';

// Without chrt (SCHED_IDLE from the start), the client asks for nice 19: on Linux a nice value
// belongs to a thread, so every thread running now (V8's helpers included) is lowered.
const nice = Number(process.env.GEOROUTE_WORKER_NICE ?? '');
if (Number.isInteger(nice) && nice > 0) {
  const threads = process.platform === 'linux' ? safeList('/proc/self/task').map(Number) : [0];
  for (const tid of threads) {
    try {
      os.setPriority(tid, nice);
    } catch {
      // not permitted: this thread runs at the normal priority
    }
  }
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return ['0'];
  }
}
const UNREACHABLE_SHOWN = 100;

/**
 * Files are read and written in pieces of this size, one system call each. This process runs at
 * SCHED_IDLE, but a kernel built with preempt=none switches away from a thread inside a system
 * call only where that call offers to: a trace caught the 4.7 MB gzip written in one write()
 * holding a CPU for 8 ms while the DNS worker, woken on that CPU, waited (the other one idle).
 * Between two calls the thread is back in user space, where any waiting thread takes the CPU.
 */
const FILE_PIECE = 256 * 1024;

function readInPieces(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = Buffer.allocUnsafe(fs.fstatSync(fd).size);
    let at = 0;
    while (at < bytes.length) {
      const n = fs.readSync(fd, bytes, at, Math.min(FILE_PIECE, bytes.length - at), at);
      if (n === 0) break;
      at += n;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } finally {
    fs.closeSync(fd);
  }
}

/** A new file (refused if it exists) readable by this user only, written in pieces. */
function writeInPieces(file: string, bytes: Buffer): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, Math.min(FILE_PIECE, bytes.length - at));
  } finally {
    fs.closeSync(fd);
  }
}

let topology: Topology | null = null;
let candidate: Topology | null = null;
/**
 * Results by their inputs (sites and the withdrawn set), emptied when a new topology commits: a
 * registry or health change asks a different question, so nothing needs clearing then.
 */
const cache = new Map<string, SimulationResult>();

function routeView(result: SimulationResult, asn: number): RouteView {
  const r = result.routeFor(asn);
  if (!r) return { asn, status: 'not-in-topology', region: null, asPath: null, reason: null, learnedFrom: null };
  return { asn, status: r.status, region: r.region, asPath: r.route ? [...r.route.asPath] : null, reason: r.reason, learnedFrom: r.learnedFrom };
}

function handle(msg: WorkerRequest): WorkerReply {
  switch (msg.op) {
    case 'parse': {
      const chunks = msg.chunks ?? [];
      const bytes = msg.file !== undefined ? readInPieces(msg.file) : chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks);
      const text = msg.compressed ? zlib.gunzipSync(bytes) : bytes;
      const source = text.toString('utf8');
      try {
        candidate = msg.format === 'json' ? parseTopologyJson(source) : parseCaidaAsRel(source);
      } catch (err) {
        if (err instanceof TopologyError) return { id: msg.id, ok: false, kind: 'topology', problems: [...err.problems], problemCount: err.problemCount };
        throw err;
      }
      if (!msg.keep) return { id: msg.id, ok: true, summary: candidate.summary };
      const gz = zlib.gzipSync(text);
      if (msg.file === undefined) return { id: msg.id, ok: true, summary: candidate.summary, compressed: gz };
      // Megabytes over the IPC channel would be joined piece by piece on the main event loop.
      const compressedFile = path.join(path.dirname(msg.file), 'compressed');
      writeInPieces(compressedFile, gz);
      return { id: msg.id, ok: true, summary: candidate.summary, compressedFile };
    }
    case 'commit':
      if (candidate === null) return { id: msg.id, ok: false, kind: 'error', message: 'no parsed topology to commit' };
      topology = candidate;
      candidate = null;
      cache.clear();
      return { id: msg.id, ok: true };
    case 'discard':
      candidate = null;
      return { id: msg.id, ok: true };
    case 'simulate': {
      if (topology === null) return { id: msg.id, ok: false, kind: 'no-topology' };
      const key = JSON.stringify([msg.sites, msg.withdrawn]);
      let result = cache.get(key);
      if (!result) {
        try {
          result = simulate(topology, msg.sites as Site[], { withdrawn: new Set(msg.withdrawn) });
        } catch (err) {
          if (err instanceof SiteError) return { id: msg.id, ok: false, kind: 'site', problems: [...err.problems] };
          throw err;
        }
        if (cache.size >= MAX_CACHED_RESULTS) cache.delete(cache.keys().next().value as string);
        cache.set(key, result);
      }
      const summary = result.summary();
      return {
        id: msg.id,
        ok: true,
        announced: summary.sites.map((s) => s.announced),
        catchments: summary.catchments,
        reached: summary.reached,
        unreachable: summary.unreachable,
        unreachableAsns: summary.unreachableAsns.slice(0, UNREACHABLE_SHOWN),
        convergence: summary.convergence,
        efficiency: summary.efficiency,
        geoDnsAgreement: result.geoDnsAgreement().share,
        routes: msg.clients.map((asn) => routeView(result, asn)),
      };
    }
  }
}

process.on('message', (msg: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = handle(msg);
  } catch (err) {
    reply = { id: msg.id, ok: false, kind: 'error', message: (err as Error)?.message ?? String(err) };
  }
  process.send!(reply);
});
process.on('disconnect', () => process.exit(0));
