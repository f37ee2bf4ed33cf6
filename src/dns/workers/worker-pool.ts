/**
 * DnsWorkerPool: N worker processes (node:cluster) that answer DNS over UDP on one port, fed with
 * every snapshot by the main process, which keeps the database, HTTP, health and DNS over TCP.
 * Why: one Node process spends most of a query in the kernel's UDP path; two processes use both
 * cores (bench/RESULTS.md).
 *
 * UDP on the batch path: one worker reads a socket bound here; two or more each read their own
 * socket of one SO_REUSEPORT group that gives every datagram to a random socket (so one busy
 * client still meets every worker, and a worker is woken only for its own datagrams: on one
 * shared socket every idle worker was woken for each). On dgram: cluster's shared socket.
 *
 * start() forks the workers, sends each the current snapshot and resolves with the UDP port once
 * every worker has applied it and bound (rejects, with the workers stopped, if one fails).
 * publish() sends a new snapshot to every worker. A worker that dies is forked again (after
 * RESTART_DELAY_MS) and gets the current snapshot before it binds. Meanwhile the one worker's
 * socket holds datagrams; with several, the dead worker's socket leaves the group with it (the
 * datagrams queued there are lost), the others take all, and the replacement binds a new one. counters() sums the workers' last reports (plus those of exited workers,
 * so counters never go back); onDecisions() receives the workers' decision deltas for metrics.
 */
import cluster, { type Worker } from 'node:cluster';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../common/paths';
import type { SnapshotInput } from '../../routing/snapshot';
import { bindSharedUdpSocket } from '../udp-batch';
import { snapshotMessages, sumCounters, type DecisionDelta, type FromWorker, type WorkerCounters, type WorkerSnapshot, type WorkerStart } from './protocol';

export interface DnsWorkerPoolOptions {
  readonly workers: number;
  readonly start: Omit<WorkerStart, 'type'>;
  readonly log: (level: 'log' | 'warn' | 'error', message: string) => void;
  readonly onDecisions?: (delta: DecisionDelta) => void;
  /**
   * Every running worker has filled its routing tables for the snapshot last published (with
   * `start.preload`); `ms` is the slowest worker's fill. Once per snapshot version.
   */
  readonly onFilled?: (ms: number) => void;
  /** Give up start() after this long. Default 120 s (opening the bundled database takes seconds). */
  readonly startTimeoutMs?: number;
}

const RESTART_DELAY_MS = 500;
/** How long served() waits for the workers at most. */
const SERVED_TIMEOUT_MS = 5000;
/** Where a worker finds the shared UDP socket (batch path): the first descriptor after stdio and IPC. */
const SHARED_UDP_FD = 4;

type BoundSocket = Awaited<ReturnType<typeof bindSharedUdpSocket>>;

interface Member {
  worker: Worker;
  /** Which socket of the group (batch path with a socket per worker). */
  slot: number;
  listening: boolean;
  version: number;
  /** Snapshot version of the worker's last completed table fill, and how long it took. */
  filled: { version: number; ms: number } | null;
  counters: WorkerCounters | null;
}

/** The compiled worker entry: beside this file when running from dist, else dist's copy (tests on sources). */
function workerEntry(): string {
  const sibling = path.join(__dirname, 'dns-worker.js');
  if (fs.existsSync(sibling)) return sibling;
  return path.join(PROJECT_ROOT, 'dist', 'src', 'dns', 'workers', 'dns-worker.js');
}

export class DnsWorkerPool {
  private readonly members = new Map<number, Member>();
  private snapshot: WorkerSnapshot | null = null;
  private retired: WorkerCounters | null = null;
  private closing = false;
  private port: number | null = null;
  private restarts = 0;
  /** served() calls waiting for a version. */
  private readonly waiters = new Set<{ version: number; done: () => void }>();
  /** The snapshot version whose fill onFilled last reported. */
  private filledReported = -1;
  /** Batch path, one worker: the UDP socket this process bound for it to inherit (kept across restarts). */
  private shared: BoundSocket | null = null;
  /**
   * Batch path, two workers or more: a socket per worker in one SO_REUSEPORT group, each
   * datagram given to a random one of them (see bindSharedUdpSocket). Bound here, so that the port
   * is checked before any worker starts; each is closed here once its worker reads it.
   */
  private slots: (BoundSocket | null)[] = [];

  /** Batch path with two workers or more: a socket per worker. */
  private readonly spread: boolean;

  constructor(private readonly opts: DnsWorkerPoolOptions) {
    this.spread = opts.start.udpIo === 'batch' && opts.workers > 1;
  }

  get size(): number {
    return this.opts.workers;
  }

  /** Workers that have applied a snapshot and bound the socket. */
  get listening(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.listening) n++;
    return n;
  }

  /** The lowest snapshot version any listening worker answers with (-1 with none). */
  get minVersion(): number {
    let min = Infinity;
    for (const m of this.members.values()) if (m.listening) min = Math.min(min, m.version);
    return min === Infinity ? -1 : min;
  }

  get restartCount(): number {
    return this.restarts;
  }

  async start(first: { version: number; builtAt: string; input: SnapshotInput }): Promise<number> {
    this.snapshot = { type: 'snapshot', ...first };
    const entry = workerEntry();
    if (!fs.existsSync(entry)) throw new Error(`DNS_WORKERS: the worker entry ${entry} is missing (run npm run build)`);
    // Batch path: one socket bound here, inherited by every worker (a bind error, e.g. EADDRINUSE, rejects start()).
    if (this.opts.start.udpIo === 'batch') {
      const { host, port } = this.opts.start;
      try {
        if (this.spread) {
          let bound = port;
          for (let i = 0; i < this.opts.workers; i++) {
            const socket = await bindSharedUdpSocket(host, bound, this.opts.workers);
            bound = socket.port;
            this.slots.push(socket);
          }
        } else this.shared = await bindSharedUdpSocket(host, port);
      } catch (err) {
        for (const socket of this.slots) socket?.close();
        this.slots = [];
        // Worded as a worker's bind failure (DnsService retries another port on EADDRINUSE).
        throw Object.assign(new Error(`cannot bind UDP ${host}:${port}: ${(err as Error).message}`), { code: (err as NodeJS.ErrnoException).code });
      }
    }
    const shared = this.shared;
    // execArgv without inspector/profiler flags of the main process (a second --inspect would clash on its port).
    cluster.setupPrimary({
      exec: entry,
      args: [],
      execArgv: process.execArgv.filter((a) => !/^--(inspect|cpu-prof|heap-prof)/.test(a)),
      stdio: shared === null ? ['inherit', 'inherit', 'inherit', 'ipc'] : ['inherit', 'inherit', 'inherit', 'ipc', shared.fd],
    });
    const ready: Promise<number>[] = [];
    for (let i = 0; i < this.opts.workers; i++) ready.push(this.fork(i));
    const timeoutMs = this.opts.startTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const ports = await Promise.race([
        Promise.all(ready),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`DNS workers not listening within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (new Set(ports).size !== 1) throw new Error(`DNS workers bound different ports (${ports.join(', ')})`);
      this.port = ports[0];
      return ports[0];
    } catch (err) {
      await this.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves once every listening worker answers with `version` or a later one (they build it in
   * slices, after the main process), or after `timeoutMs` (a worker that cannot build it logs why
   * and keeps the previous one; a write's response does not wait for it longer).
   */
  served(version: number, timeoutMs = SERVED_TIMEOUT_MS): Promise<void> {
    // No worker listening (one restarting): nothing answers with an older version meanwhile.
    if (this.listening === 0 || this.minVersion >= version) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = {
        version,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, timeoutMs);
      timer.unref();
      this.waiters.add(waiter);
    });
  }

  /** Waiters whose version every listening worker now answers with are let go. */
  private releaseWaiters(): void {
    const min = this.listening === 0 ? Infinity : this.minVersion;
    for (const waiter of [...this.waiters]) if (min >= waiter.version) waiter.done();
  }

  publish(snapshot: { version: number; builtAt: string; input: SnapshotInput }): void {
    this.snapshot = { type: 'snapshot', ...snapshot };
    const messages = snapshotMessages(this.snapshot);
    for (const m of this.members.values()) {
      for (const message of messages) this.sendTo(m.worker, message);
    }
  }

  /**
   * A send to a worker that has just died fails with EPIPE before its 'exit' arrives: the error
   * goes to the callback (logged), never to an unhandled 'error' event in the main process. The
   * replacement worker gets the current snapshot when it comes online.
   */
  private sendTo(worker: Worker, message: object): void {
    if (!worker.isConnected()) return;
    worker.send(message, (err: Error | null) => {
      if (err && !this.closing) this.opts.log('warn', `dns worker ${worker.process.pid}: message not delivered (${err.message})`);
    });
  }

  /** Summed counters of every worker, living and exited; null before the first report. */
  counters(): WorkerCounters | null {
    let total = this.retired === null ? null : { ...this.retired, responder: { ...this.retired.responder, snapshotVersion: Number.MAX_SAFE_INTEGER } };
    for (const m of this.members.values()) {
      if (m.counters !== null) total = total === null ? m.counters : sumCounters(total, m.counters);
    }
    return total;
  }

  async close(): Promise<void> {
    this.closing = true;
    const exits = [...this.members.values()].map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.worker.isDead()) return resolve();
          const timer = setTimeout(() => {
            m.worker.process.kill('SIGKILL');
          }, 5000);
          m.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (m.worker.isConnected()) this.sendTo(m.worker, { type: 'stop' });
          else m.worker.process.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    this.shared?.close();
    this.shared = null;
    for (const socket of this.slots) socket?.close();
    this.slots = [];
  }

  /** Calls onFilled once every worker has filled its tables for the snapshot last published. */
  private reportFilled(): void {
    const version = this.snapshot?.version;
    if (version === undefined || this.filledReported === version || this.members.size === 0) return;
    let slowest = 0;
    for (const member of this.members.values()) {
      if (member.filled === null || member.filled.version !== version) return;
      slowest = Math.max(slowest, member.filled.ms);
    }
    this.filledReported = version;
    this.opts.onFilled?.(slowest);
  }

  /** Forks one worker; resolves with its port once it listens, rejects if it fails first. */
  private fork(slot: number): Promise<number> {
    // A socket per worker: the one bound at start, or none for a replacement, which binds its own into the group.
    const own = this.slots[slot] ?? null;
    if (this.spread) cluster.setupPrimary({ stdio: own === null ? ['inherit', 'inherit', 'inherit', 'ipc'] : ['inherit', 'inherit', 'inherit', 'ipc', own.fd] });
    const worker = cluster.fork();
    const member: Member = { worker, slot, listening: false, version: -1, filled: null, counters: null };
    this.members.set(worker.id, member);
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      worker.on('online', () => {
        const fd = this.shared !== null || own !== null ? SHARED_UDP_FD : null;
        this.sendTo(worker, { type: 'start', ...this.opts.start, udpFd: fd, spread: this.spread ? this.opts.workers : 0 });
        if (this.snapshot) for (const message of snapshotMessages(this.snapshot)) this.sendTo(worker, message);
      });
      // Errors of the IPC channel (a worker dying mid-send); its 'exit' handles the rest.
      worker.on('error', (err) => {
        if (!this.closing) this.opts.log('warn', `dns worker ${worker.process.pid}: ${err.message}`);
      });
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'listening':
            member.listening = true;
            // The worker has its copy: a worker that dies from now on takes its socket out of the group.
            if (own !== null && this.slots[slot] === own) {
              own.close();
              this.slots[slot] = null;
            }
            if (this.port !== null && m.port !== this.port) this.opts.log('error', `dns worker ${worker.process.pid} bound port ${m.port}, not ${this.port}`);
            if (!settled) {
              settled = true;
              resolve(m.port);
            }
            break;
          case 'applied':
            member.version = m.version;
            this.releaseWaiters();
            break;
          case 'filled':
            member.filled = { version: m.version, ms: m.ms };
            this.reportFilled();
            break;
          case 'failed':
            this.opts.log('error', `dns worker ${worker.process.pid}: ${m.message}`);
            if (!settled) {
              settled = true;
              reject(new Error(m.message));
            }
            break;
          case 'log':
            this.opts.log(m.level, m.message);
            break;
          case 'stats':
            member.counters = { responder: m.responder, udp: m.udp, rateLimited: m.rateLimited };
            if (m.decisions.length > 0) this.opts.onDecisions?.(m);
            break;
        }
      });
      worker.on('exit', (code, signal) => {
        this.members.delete(worker.id);
        this.releaseWaiters();
        if (member.counters !== null) this.retired = this.retired === null ? member.counters : sumCounters(this.retired, member.counters);
        if (!settled) {
          settled = true;
          reject(new Error(`dns worker ${worker.process.pid} exited (${signal ?? code}) before listening`));
          return;
        }
        if (this.closing) return;
        this.opts.log('error', `dns worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        setTimeout(() => {
          if (this.closing) return;
          this.restarts++;
          this.fork(member.slot).catch((err) => this.opts.log('error', `dns worker restart failed: ${(err as Error).message}`));
        }, RESTART_DELAY_MS);
      });
    });
  }
}
