/**
 * Fills the routing tables ahead of queries, off the hot path: every record of the geo database
 * mapped to its location class (GeoClassifier.fill), then every class's region ranking
 * (DnsResponder.fillRanking). Work runs in slices of about a millisecond with pauses between them,
 * so DNS and the API keep answering meanwhile; whatever a query needs before the fill has
 * reached it is computed for that query (about a microsecond a row) and kept.
 *
 * `start()` after a snapshot or a database change: a new classifier restarts the database walk,
 * and the ranking walk resumes from where the responder's current ranking stands.
 */
import type { GeoClassifier } from '../geo/geo-classifier';
import type { DnsResponder } from './responder';

/** Work per slice, and the pause after it: a third of one core at most, and never more than about
 * a millisecond added to anything else waiting (a webhook's database round trips wait for it). */
const SLICE_MS = 1;
const PAUSE_MS = 2;
const CLASSIFIER_STEP = 256;
const RANKING_STEP = 64;

export class TableFiller {
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Time of the last completed fill (ms since the epoch), for logs and tests. */
  completedAt: number | null = null;

  constructor(
    private readonly classifier: () => GeoClassifier,
    private readonly responder: DnsResponder,
    private readonly onDone?: (ms: number) => void,
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
        const classifier = this.classifier();
        while (Date.now() < until) {
          const classified = classifier.fill(CLASSIFIER_STEP);
          const ranked = this.responder.fillRanking(RANKING_STEP);
          if (classified && ranked) {
            done = true;
            break;
          }
        }
      } catch {
        done = true; // a fill that cannot go on leaves the on-demand path, which is always correct
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

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
