import type { Steps } from '../routing/steps';

/**
 * How long one slice of a build runs before the event loop gets a turn (ms). A DNS query that
 * arrives during a slice waits for its end: half a millisecond is within the spread of idle
 * answers, while the turn between slices costs a few microseconds.
 */
export const BUILD_SLICE_MS = 0.5;

/**
 * Runs `steps` (routing/steps.ts) to the end in slices of `sliceMs`, with a turn of the event
 * loop (I/O first: DNS datagrams, socket reads) between them; resolves with the result, or
 * rejects with what a step threw. The first slice runs at once, so a small build (one PATCH)
 * ends in the caller's turn as it did when it ran whole. Unlike the background work of
 * dns/sliced-work.ts it does not step aside for API requests: a write's response waits for it
 * (read-your-writes).
 */
export function runInSlices<T>(steps: Steps<T>, sliceMs = BUILD_SLICE_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const slice = (): void => {
      const until = performance.now() + sliceMs;
      try {
        for (;;) {
          const next = steps.next();
          if (next.done === true) {
            resolve(next.value);
            return;
          }
          if (performance.now() >= until) break;
        }
      } catch (err) {
        reject(err);
        return;
      }
      setImmediate(slice);
    };
    slice();
  });
}

/**
 * The same slices for a loop that awaits (validation, database work): `await clock.turn()` after
 * each item gives the event loop a turn once the slice's time is up, and returns at once before.
 */
export class SliceClock {
  private started = performance.now();

  constructor(private readonly sliceMs = BUILD_SLICE_MS) {}

  async turn(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}
