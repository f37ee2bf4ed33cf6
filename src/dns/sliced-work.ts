/**
 * Background work off the DNS hot path, in slices of about a millisecond with pauses between
 * them (a third of one core at most, and never more than about a millisecond added to anything
 * else waiting: a webhook's database round trips wait for it). While an API request is in
 * progress, the next slice waits for it to finish, for up to MAX_DEFER_MS (common/foreground.ts).
 * The table filler and the DNSSEC pre-signer are two of these.
 */

import { MAX_DEFER_MS, foregroundBusy } from '../common/foreground';

/** Work per slice, and the pause after it. */
const SLICE_MS = 1;
const PAUSE_MS = 2;

export abstract class SlicedWork {
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Time the last pass ended (ms since the epoch), for logs and tests. */
  completedAt: number | null = null;

  protected constructor(
    private readonly onDone?: (ms: number) => void,
    private readonly onError?: (err: unknown) => void,
  ) {}

  /** One step of the pass; true when the pass is complete. Called until a slice's time is up. */
  protected abstract step(): boolean;

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    const started = Date.now();
    let deferredSince: number | null = null;
    const slice = (): void => {
      this.timer = null;
      if (this.stopped) return;
      // API requests in progress go first, for up to MAX_DEFER_MS per slice (common/foreground.ts).
      const now = Date.now();
      if (foregroundBusy(now) && (deferredSince === null || now - deferredSince < MAX_DEFER_MS)) {
        deferredSince ??= now;
        this.timer = setTimeout(slice, 1);
        return;
      }
      deferredSince = null;
      const until = Date.now() + SLICE_MS;
      let done = false;
      try {
        while (Date.now() < until) {
          if (this.step()) {
            done = true;
            break;
          }
        }
      } catch (err) {
        // Work that cannot go on leaves the on-demand path, which is always correct.
        this.onError?.(err);
        done = true;
      }
      if (done) {
        this.running = false;
        this.completedAt = Date.now();
        this.onDone?.(this.completedAt - started);
        return;
      }
      this.timer = setTimeout(slice, PAUSE_MS);
    };
    this.timer = setTimeout(slice, 0);
  }

  /** Whether a pass is under way. */
  get busy(): boolean {
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
