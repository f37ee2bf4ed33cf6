import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DomainError, ErrorCode } from '../common/domain-error';
import { PROJECT_ROOT } from '../common/paths';
import type { WorkerCommand, WorkerReply, WorkerRequest } from './anycast-worker.protocol';

/**
 * Callers' requests in the worker at once, the running one included; one more is 429. Internal
 * requests (start-up load, commit, discard) wait in the same line but do not count.
 */
export const ANYCAST_MAX_QUEUED = 3;

/**
 * How long a caller waits for the worker's answer before a 503. The worker runs only on CPU time
 * nothing else wants (SCHED_IDLE): on a machine kept busy by DNS it may not progress at all, and a
 * request should then fail, saying why, rather than hang. The request keeps its place in the queue
 * until the worker answers it (so waiting requests stay bounded).
 */
export const ANYCAST_WAIT_MS = 120_000;

/** A parse request with more bytes than this goes through a file, not the IPC channel. */
export const SPOOL_BYTES = 1 << 20;

/**
 * The main process's side of anycast.worker.ts: one child process, started on first use, one
 * request at a time in arrival order. More than ANYCAST_MAX_QUEUED requests waiting is 429 with
 * Retry-After (heavy admin work waits its turn instead of piling up CPU and memory). A worker that
 * dies fails what it held and is replaced on the next request; `onRestart` lets the owner
 * reinstall the topology.
 *
 * Why a process at the lowest CPU priority, not a worker thread (issue 16): a topology parse or a
 * simulation keeps a CPU busy for seconds, and so does V8's garbage collection of what it
 * allocates, on helper threads shared by the whole process. A worker thread could lower only its
 * own priority (nice 10 measured: the event loop answering DNS still waited for a CPU, DNS p99
 * 9-24 x idle during a 200,000-AS upload on 2 vCPUs). On Linux the child is started under
 * `chrt --idle 0` (SCHED_IDLE, which every thread it starts inherits, GC helpers included, and which
 * any normal thread preempts at once on waking); where chrt is missing, every thread of the child
 * gets nice 19 once it has started. A large upload's bytes go through a private temporary folder
 * both ways (the upload, then its gzip): over the IPC channel, Node joins a message's pieces on
 * this event loop as they arrive, 92 ms of it for a 4.7 MB reply in one measured upload.
 */
export class AnycastWorker {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void; spool: string | null; counted: boolean }>();
  /** Pending requests that count against ANYCAST_MAX_QUEUED (not internal). */
  private counted = 0;
  private restarted = false;

  constructor(
    private readonly onRestart: () => Promise<void>,
    private readonly waitMs = ANYCAST_WAIT_MS,
  ) {}

  static script(): string {
    const beside = path.join(__dirname, 'anycast.worker.js');
    return fs.existsSync(beside) ? beside : path.join(PROJECT_ROOT, 'dist/src/anycast/anycast.worker.js');
  }

  /** Requests sent and not yet answered, internal ones included. */
  get busy(): number {
    return this.pending.size;
  }

  /** Callers' requests sent and not yet answered (what ANYCAST_MAX_QUEUED limits). */
  get queued(): number {
    return this.counted;
  }

  /** The worker's process id while it runs (for tests and diagnostics). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /**
   * Sends a request; `internal` requests (start-up load, commit, discard) are not counted against
   * the limit. A caller's request holds its place from this call on, also while it waits for a
   * reinstall or writes its spool file, so concurrent callers cannot pass the limit together.
   */
  async request(command: WorkerCommand, internal = false): Promise<WorkerReply> {
    if (!internal && this.counted >= ANYCAST_MAX_QUEUED) {
      throw new DomainError(ErrorCode.TooManyRequests, `the anycast worker is busy (${this.counted} requests ahead); try again shortly`, [], { retryAfterSeconds: 2 });
    }
    if (!internal) this.counted++;
    let sent = false;
    try {
      if (this.restarted && !internal) {
        this.restarted = false;
        await this.onRestart();
      }
      const id = this.nextId++;
      let message = { ...command, id } as WorkerRequest;
      let spool: string | null = null;
      if (message.op === 'parse' && message.chunks !== undefined && message.chunks.reduce((n, c) => n + c.byteLength, 0) > SPOOL_BYTES) {
        spool = await spoolToFile(message.chunks);
        message = { ...message, chunks: undefined, file: spool };
      }
      const child = this.ensure();
      sent = true;
      const answer = new Promise<WorkerReply>((resolve, reject) => {
        this.pending.set(id, { resolve, reject, spool, counted: !internal });
        child.send(message, (err) => {
          if (err) this.settle(id, null, err);
        });
      });
      return await (internal ? answer : this.withinWait(answer));
    } finally {
      // Once sent, settle() gives the place back.
      if (!sent && !internal) this.counted--;
    }
  }

  /** The answer, or a 503 once the caller has waited waitMs (the answer, when it comes, is dropped). */
  private withinWait(answer: Promise<WorkerReply>): Promise<WorkerReply> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waited = this.waitMs >= 1000 ? `${Math.round(this.waitMs / 1000)} s` : `${this.waitMs} ms`;
        reject(new DomainError(ErrorCode.Unavailable, `the anycast worker did not answer within ${waited}: it runs only on CPU time nothing else needs, and this machine has had little to spare; try again later`, [], { retryAfterSeconds: 30 }));
      }, this.waitMs);
      timer.unref();
    });
    answer.catch(() => undefined);
    return Promise.race([answer, late]).finally(() => clearTimeout(timer));
  }

  /** Starts the worker now, if it is not running (at start-up rather than next to an upload). */
  warm(): void {
    this.ensure();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  private settle(id: number, reply: WorkerReply | null, error: Error | null): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.counted) this.counted--;
    if (p.spool !== null) fs.promises.rm(path.dirname(p.spool), { recursive: true, force: true }).catch(() => undefined);
    if (reply !== null) p.resolve(reply);
    else p.reject(error ?? new Error('the anycast worker failed'));
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const child = startIdle(AnycastWorker.script());
    child.unref();
    child.channel?.unref();
    child.on('message', (reply: WorkerReply) => {
      if (!reply.ok || reply.compressedFile === undefined) {
        this.settle(reply.id, reply, null);
        return;
      }
      // Read by the thread pool; the folder goes once the request is settled.
      fs.promises.readFile(reply.compressedFile).then(
        (compressed) => this.settle(reply.id, { ...reply, compressed, compressedFile: undefined }, null),
        (err: Error) => this.settle(reply.id, null, err),
      );
    });
    const fail = (error: Error) => {
      if (this.child !== child) return;
      this.child = null;
      this.restarted = true;
      for (const id of [...this.pending.keys()]) this.settle(id, null, error);
    };
    child.on('error', fail);
    child.on('exit', (code, signal) => fail(new Error(`the anycast worker exited (${signal ?? `code ${code}`})`)));
    this.child = child;
    return child;
  }
}

/** chrt on the PATH (util-linux), or null. */
function findChrt(): string | null {
  if (process.platform !== 'linux') return null;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir, 'chrt');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Starts `script` as a child process with an IPC channel (structured-clone serialisation), at the
 * lowest CPU priority this system offers an unprivileged process: SCHED_IDLE through chrt, or
 * nice 19 (the child lowers its own threads then, told by GEOROUTE_WORKER_NICE).
 */
function startIdle(script: string): ChildProcess {
  const chrt = findChrt();
  const options = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[], serialization: 'advanced' as const };
  if (chrt !== null) return spawn(chrt, ['--idle', '0', process.execPath, script], options);
  return fork(script, [], { ...options, execArgv: [], env: { ...process.env, GEOROUTE_WORKER_NICE: '19' } });
}

/** Writes `chunks` to a new file in a private (0700) temporary folder; the worker reads it. */
async function spoolToFile(chunks: readonly Uint8Array[]): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'georoute-topology-'));
  const file = path.join(dir, 'upload');
  const handle = await fs.promises.open(file, 'wx', 0o600);
  try {
    await handle.writev(chunks as Uint8Array[]);
  } finally {
    await handle.close();
  }
  return file;
}
