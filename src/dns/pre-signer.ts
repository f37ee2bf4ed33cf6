/**
 * Signs DNSSEC answers ahead of queries, off the hot path (DnsResponder.presign over the view's
 * walk, ZoneView.presign): after a view is built or updated, after key changes and after a
 * re-signing, every answer of the signed zones that can be enumerated, and every answer variant
 * made since by a query. Work runs in slices of about a millisecond with pauses between them,
 * like the TableFiller, so DNS and the API keep answering; an answer asked before the pre-signer
 * has reached it is signed for that query (and counted as a query-path signature).
 *
 * `start()` whenever the responder says there is work (`DnsResponder.onSigningWork`).
 */
import type { DnsResponder } from './responder';

/** Work per slice, and the pause after it: a third of one core at most. */
const SLICE_MS = 1;
const PAUSE_MS = 2;
/** Answers looked at between two looks at the clock (an ECDSA signature is ~50 us). */
const STEP = 8;

export class PreSigner {
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Time the last pass ended (ms since the epoch), for logs and tests. */
  completedAt: number | null = null;

  constructor(
    private readonly responder: DnsResponder,
    private readonly onDone?: (ms: number) => void,
    private readonly onError?: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    const started = Date.now();
    const slice = (): void => {
      this.timer = null;
      if (this.stopped) return;
      const until = Date.now() + SLICE_MS;
      let done = false;
      try {
        while (Date.now() < until) {
          if (this.responder.presign(STEP)) {
            done = true;
            break;
          }
        }
      } catch (err) {
        // What is not signed ahead is signed on first use, which is always correct.
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
