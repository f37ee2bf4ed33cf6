/**
 * Work written as steps: a generator that yields between pieces of a long build (a snapshot of
 * 10,000 services, its DNS view) so that a caller can run it in slices and answer queries
 * between them (common/slices.ts), while tests and small builds run it at once. A step holds no
 * lock and leaves nothing half-installed: the result exists only when the generator returns.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to the end in this turn and returns its result. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}
