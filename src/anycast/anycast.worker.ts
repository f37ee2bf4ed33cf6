/**
 * The anycast worker thread: topology parsing and BGP simulation, off the event loop that answers
 * DNS (a 199k-AS simulation takes seconds of CPU). It holds the installed topology and a small
 * result cache; the main thread (AnycastWorker) sends one request at a time and gets plain data
 * back. Protocol (worker_threads messages), every request carries an `id`, every reply echoes it:
 * - parse {format, source}: parses into a candidate; reply {summary} or a topology error.
 * - commit: the candidate becomes the topology (after the main thread stored it); discard: drops it.
 * - simulate {sites, withdrawn, clients}: reply {sites, summary, routes, geoDnsAgreement}.
 * - clear: forgets cached results.
 */
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import { parentPort } from 'node:worker_threads';
import { SiteError, Topology, TopologyError, parseCaidaAsRel, parseTopologyJson, simulate, type SimulationResult, type Site } from '../routing/bgp';
import type { WorkerReply, WorkerRequest, RouteView } from './anycast-worker.protocol';

const MAX_CACHED_RESULTS = 8;

// On Linux a nice value belongs to a thread: setpriority on "this process" (0) from here lowers
// only this worker thread, so when CPUs are short the thread answering DNS runs first. (Elsewhere
// it would lower the whole process, so it is left alone.)
if (process.platform === 'linux') {
  try {
    os.setPriority(10);
  } catch {
    // not permitted: run at the normal priority
  }
}
const UNREACHABLE_SHOWN = 100;

let topology: Topology | null = null;
let candidate: Topology | null = null;
const cache = new Map<string, SimulationResult>();

function routeView(result: SimulationResult, asn: number): RouteView {
  const r = result.routeFor(asn);
  if (!r) return { asn, status: 'not-in-topology', region: null, asPath: null, reason: null, learnedFrom: null };
  return { asn, status: r.status, region: r.region, asPath: r.route ? [...r.route.asPath] : null, reason: r.reason, learnedFrom: r.learnedFrom };
}

function handle(msg: WorkerRequest): WorkerReply {
  switch (msg.op) {
    case 'parse': {
      const bytes = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength);
      const text = msg.compressed ? zlib.gunzipSync(bytes) : bytes;
      const source = text.toString('utf8');
      try {
        candidate = msg.format === 'json' ? parseTopologyJson(source) : parseCaidaAsRel(source);
      } catch (err) {
        if (err instanceof TopologyError) return { id: msg.id, ok: false, kind: 'topology', problems: [...err.problems], problemCount: err.problemCount };
        throw err;
      }
      if (!msg.keep) return { id: msg.id, ok: true, summary: candidate.summary };
      return { id: msg.id, ok: true, summary: candidate.summary, compressed: ownedBytes(zlib.gzipSync(text)) };
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
    case 'clear':
      cache.clear();
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

parentPort?.on('message', (msg: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = handle(msg);
  } catch (err) {
    reply = { id: msg.id, ok: false, kind: 'error', message: (err as Error)?.message ?? String(err) };
  }
  // The compressed topology goes back moved, not copied.
  const compressed = reply.ok ? reply.compressed : undefined;
  parentPort!.postMessage(reply, compressed ? [compressed.buffer as ArrayBuffer] : []);
});

/** `b` in an ArrayBuffer of its own (so it can be transferred without taking anything else along). */
function ownedBytes(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return new Uint8Array(b.buffer, 0, b.byteLength);
  return new Uint8Array(b);
}
