/**
 * API requests in progress, so that background work can let them go first: the audit log lines
 * of a large request, the snapshot file's rows and blocks, the DNS table filler's slices. After a
 * 10,000-service config/apply that work runs for a second or more; a webhook or a PATCH arriving
 * then used to wait for a slice at each of its database round trips (its statements' replies are
 * handled on the same event loop). Now each piece of background work waits while a request is
 * in progress, for at most MAX_DEFER_MS (background work is never starved), and a request counts
 * for at most FOREGROUND_MAX_MS from its arrival (a long upload or an event stream does not hold
 * the background back for longer).
 */

/** How long a request can keep background work waiting, from its arrival. */
export const FOREGROUND_MAX_MS = 250;
/** How long one piece of background work waits for requests to finish, at most. */
export const MAX_DEFER_MS = 50;

/** Arrival time (ms) of each request in progress. */
const inProgress = new Map<object, number>();

/** A request arrived; call the returned function when it finished (once or more: idempotent). */
export function foregroundStarted(token: object, now = Date.now()): () => void {
  inProgress.set(token, now);
  return () => inProgress.delete(token);
}

/** Whether a request that arrived within FOREGROUND_MAX_MS is in progress. */
export function foregroundBusy(now = Date.now()): boolean {
  for (const arrived of inProgress.values()) if (now - arrived < FOREGROUND_MAX_MS) return true;
  return false;
}

/**
 * Resolves after a turn of the event loop (I/O first), once no request is in progress or after
 * MAX_DEFER_MS, whichever comes first. Background work awaits it between its slices.
 */
export async function yieldToForeground(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  const until = Date.now() + MAX_DEFER_MS;
  while (foregroundBusy() && Date.now() < until) await new Promise<void>((resolve) => setTimeout(resolve, 1));
}

/** Express middleware: each request counts from its arrival until its response finished or its connection closed. */
export function trackForeground() {
  return (req: object, res: { once(event: 'finish' | 'close', fn: () => void): unknown }, next: () => void): void => {
    const done = foregroundStarted(req);
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}
