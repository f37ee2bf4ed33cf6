/**
 * A DNS worker process (DNS_WORKERS > 0): the UDP half of the DNS server without Nest or a
 * database. Forked by DnsWorkerPool with node:cluster. On the batch path it reads the socket the
 * main process bound for it (descriptor 4), or, replacing a worker that died, binds its own into
 * the workers' SO_REUSEPORT group (`spread`); on dgram every worker binds the same UDP address
 * with `exclusive: false`, so cluster hands them one shared socket (Node 20's dgram has no
 * SO_REUSEPORT).
 *
 * Life: `start` (open the GeoIP database: mapped read-only when the native addon is built, so
 * its pages are shared with the main process and the other workers) -> the first `snapshot` (build and apply it) -> bind
 * and report `listening`; then every `snapshot` is rebuilt with the pure buildSnapshot() (with
 * its DNS view, in slices: queries are answered between them; of snapshots arriving meanwhile
 * only the newest is built next) and swapped into the responder (`applied`), and counters and decision deltas go to the main process
 * every second. A snapshot that fails to build keeps the previous one (reported as a log line).
 */
import * as ipaddr from 'ipaddr.js';
import { buildSnapshotSteps } from '../../routing/snapshot';
import { runInSlices } from '../../common/slices';
import { requestCpuSlice } from '../../common/cpu-slice';
import type { RoutingSnapshot } from '../../routing/types';
import { GeoLocator } from '../../geo/geo-locator';
import { DnsResponder } from '../responder';
import { TableFiller } from '../table-filler';
import { PreSigner } from '../pre-signer';
import { ResponseRateLimiter } from '../rate-limiter';
import { createUdpListener, type UdpSocketListener } from '../udp-server';
import { BatchUdpListener } from '../udp-batch';
import { STATS_INTERVAL_MS, SnapshotAssembler, type FromWorker, type ToWorker, type WorkerStart } from './protocol';

function send(message: FromWorker): void {
  if (process.connected) process.send!(message);
}

const log = (level: 'log' | 'warn' | 'error', message: string): void => send({ type: 'log', level, message });

let start: WorkerStart | null = null;
let locator: GeoLocator | null = null;
let responder: DnsResponder | null = null;
let limiter: ResponseRateLimiter | null = null;
let udp: UdpSocketListener | null = null;
let binding = false;
let pending: Extract<ToWorker, { type: 'snapshot' }> | null = null;

let current: RoutingSnapshot | undefined;
let filler: TableFiller | null = null;
let presigner: PreSigner | null = null;

/** The newest snapshot message not yet taken up, and whether one is being built. */
let latest: Extract<ToWorker, { type: 'snapshot' }> | null = null;
let building = false;

/**
 * Builds the snapshot of `m` and its DNS view in slices (common/slices.ts), answering queries
 * from the ones in service between them, then swaps them in.
 */
async function apply(m: Extract<ToWorker, { type: 'snapshot' }>): Promise<boolean> {
  try {
    // The previous snapshot lets unchanged zones, services and plans be reused (and the view kept).
    const next = await runInSlices(buildSnapshotSteps(m.input, m.version, new Date(m.builtAt), current));
    const view = responder!.prepare(next);
    if (view !== null) await runInSlices(view);
    responder!.setSnapshot(next);
    current = next;
    filler?.start();
    send({ type: 'applied', version: m.version });
    return true;
  } catch (err) {
    log('error', `dns worker ${process.pid}: snapshot version ${m.version} not applied, keeping the previous one: ${(err as Error).message}`);
    return false;
  }
}

async function onStart(m: WorkerStart): Promise<void> {
  start = m;
  // Every thread of this process works for DNS: each asks for the short slice (common/cpu-slice.ts).
  if (m.cpuSliceUs > 0) {
    const slice = requestCpuSlice(m.cpuSliceUs, 'process');
    if (slice.reason !== null) log('warn', `dns worker ${process.pid}: DNS_CPU_SLICE_US=${m.cpuSliceUs} not applied on every thread: ${slice.reason}`);
  }
  try {
    locator = m.geoipDb === null ? await GeoLocator.openBundled() : await GeoLocator.open(m.geoipDb);
  } catch (err) {
    send({ type: 'failed', message: `cannot open the GeoIP database: ${(err as Error).message}` });
    process.exit(1);
  }
  const geo = locator;
  responder = new DnsResponder({
    classifier: () => geo.classifier,
    onError: (err) => log('error', `query failed, answered SERVFAIL: ${(err as Error)?.message ?? String(err)}`),
    identity: m.identity,
    dnssec: {
      kek: Buffer.from(m.dnssec.kekHex, 'hex'),
      validitySeconds: m.dnssec.validitySeconds,
      inceptionOffsetSeconds: m.dnssec.inceptionOffsetSeconds,
      onlineSignaturesPerSecond: m.dnssec.onlineSignaturesPerSecond,
    },
  });
  if (m.preload) filler = new TableFiller(() => geo.classifier, responder, (ms) => send({ type: 'filled', version: current?.version ?? -1, ms }));
  // DNSSEC answers signed ahead of queries in this process too (each worker holds its own view).
  const signer = new PreSigner(responder, undefined, (err) => log('error', `dns worker ${process.pid}: DNSSEC pre-signing stopped: ${(err as Error).message}`));
  presigner = signer;
  responder.onSigningWork = () => signer.start();
  const r = m.rateLimit;
  if (r.responsesPerSecond > 0) {
    limiter = new ResponseRateLimiter({
      responsesPerSecond: r.responsesPerSecond,
      errorsPerSecond: r.errorsPerSecond,
      slip: r.slip,
      exempt: r.exempt.map((c) => (c.includes('/') ? ipaddr.parseCIDR(c) : ([ipaddr.parse(c), c.includes(':') ? 128 : 32] as [ipaddr.IPv4 | ipaddr.IPv6, number]))),
    });
    const rrl = limiter;
    // No signature for a compact denial whose reply the limiter would drop or slip anyway.
    responder.negativeGate = (address, family) => rrl.errorLimited(address, family);
  }
  if (pending !== null) await onSnapshot(pending);
}

async function onSnapshot(m: Extract<ToWorker, { type: 'snapshot' }>): Promise<void> {
  if (responder === null) {
    pending = m;
    return;
  }
  pending = null;
  // Snapshots arriving during a build wait; only the newest of them is built next.
  latest = m;
  if (building) return;
  building = true;
  let applied = false;
  try {
    while (latest !== null) {
      const next = latest;
      latest = null;
      if (await apply(next)) applied = true;
    }
  } finally {
    building = false;
  }
  if (!applied || udp !== null || binding) return;
  // First snapshot in place: only now take datagrams, so no query meets an empty view.
  binding = true;
  try {
    const logTo = (level: 'warn' | 'error', message: string): void => log(level, message);
    const fd = start!.udpFd;
    let port: number;
    if (typeof fd === 'number') {
      // Batch: the socket the main process bound for this worker, inherited at this descriptor.
      const listener = new BatchUdpListener(responder, logTo, limiter);
      port = listener.adopt(fd);
      udp = listener;
    } else if (start!.udpIo === 'batch' && (start!.spread ?? 0) > 1) {
      // Batch, replacing a worker: a socket of its own in the group (the dead worker's left with it).
      const listener = new BatchUdpListener(responder, logTo, limiter);
      port = await listener.bind(start!.host, start!.port, false, start!.spread);
      udp = listener;
    } else {
      const listener = createUdpListener(start!.udpIo, responder, logTo, limiter);
      port = await listener.bind(start!.host, start!.port, false);
      udp = listener;
    }
    send({ type: 'listening', port });
  } catch (err) {
    send({ type: 'failed', message: `cannot bind UDP ${start!.host}:${start!.port}: ${(err as Error).message}` });
    process.exit(1);
  }
}

function report(): void {
  if (responder === null) return;
  send({
    type: 'stats',
    responder: responder.stats(),
    udp: udp ? { ...udp.counters } : { received: 0, replied: 0, sendErrors: 0, socketErrors: 0 },
    rateLimited: { slipped: limiter?.counters.slipped ?? 0, dropped: limiter?.counters.dropped ?? 0 },
    decisions: responder.takeAnswerCounts().map((c) => [c.service, c.region, c.reason, c.count] as const),
  });
}

async function stop(): Promise<void> {
  clearInterval(timer);
  clearInterval(resigner);
  filler?.stop();
  presigner?.stop();
  report();
  await udp?.close();
  process.disconnect();
}

const timer = setInterval(report, STATS_INTERVAL_MS);
// DNSSEC signatures made anew halfway through their validity window (see DnsResponder.maintain).
const resigner = setInterval(() => {
  try {
    responder?.maintain();
  } catch (err) {
    log('error', `dns worker ${process.pid}: DNSSEC re-signing failed: ${(err as Error).message}`);
  }
}, 60_000);

const assembler = new SnapshotAssembler();

/** A snapshot message or part: a whole snapshot goes on to onSnapshot. */
async function onSnapshotMessage(m: Extract<ToWorker, { type: 'snapshot' | 'snapshot-part' }>): Promise<void> {
  const whole = assembler.add(m);
  if (whole !== null) await onSnapshot(whole);
  else if (m.type === 'snapshot') log('error', `dns worker ${process.pid}: snapshot version ${m.version} arrived without all of its parts; keeping the previous one`);
}

process.on('message', (m: ToWorker) => {
  const work = m.type === 'start' ? onStart(m) : m.type === 'snapshot' || m.type === 'snapshot-part' ? onSnapshotMessage(m) : stop();
  work.catch((err) => log('error', `dns worker ${process.pid}: ${(err as Error).message}`));
});
// The main process going away (crash or kill -9) must not leave workers holding the port.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the main process decides when workers stop.
process.on('SIGINT', () => undefined);
