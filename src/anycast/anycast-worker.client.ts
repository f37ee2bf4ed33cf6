import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DomainError, ErrorCode } from '../common/domain-error';
import { PROJECT_ROOT } from '../common/paths';
import type { WorkerCommand, WorkerReply } from './anycast-worker.protocol';

/** Requests in the worker at once, the running one included; one more is 429. */
export const ANYCAST_MAX_QUEUED = 3;

/**
 * The main thread's side of anycast.worker.ts: one worker thread, started on first use, one request
 * at a time in arrival order. More than ANYCAST_MAX_QUEUED requests waiting is 429 with
 * Retry-After (heavy admin work waits its turn instead of piling up CPU and memory). A worker that
 * dies fails what it held and is replaced on the next request; `onRestart` lets the owner
 * reinstall the topology.
 */
export class AnycastWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private restarted = false;

  constructor(private readonly onRestart: () => Promise<void>) {}

  static script(): string {
    const beside = path.join(__dirname, 'anycast.worker.js');
    return fs.existsSync(beside) ? beside : path.join(PROJECT_ROOT, 'dist/src/anycast/anycast.worker.js');
  }

  get busy(): number {
    return this.pending.size;
  }

  /**
   * Sends a request; `internal` requests (start-up load, restore) are not counted against the
   * limit. `transfer`: buffers moved to the worker, not copied (they are unusable here afterwards).
   */
  async request(command: WorkerCommand, internal = false, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (!internal && this.pending.size >= ANYCAST_MAX_QUEUED) {
      throw new DomainError(ErrorCode.TooManyRequests, `the anycast worker is busy (${this.pending.size} requests ahead); try again shortly`, [], { retryAfterSeconds: 2 });
    }
    if (this.restarted && !internal) {
      this.restarted = false;
      await this.onRestart();
    }
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...command, id }, transfer);
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(AnycastWorker.script());
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      p.resolve(reply);
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.restarted = true;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the anycast worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
