import { DomainError, ErrorCode } from './domain-error';

/**
 * Admin work heavy enough to compete with DNS for the event loop (a config apply or dry run of
 * thousands of objects, a zone import, a zone export): at most `concurrency` at a time, at most
 * `queue` more waiting their turn; beyond that a request is refused at once with 429 and
 * Retry-After instead of piling up CPU and memory. (Anycast parsing and simulation have their own
 * worker process and limit, src/anycast.)
 */
export class HeavyWorkLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly retryAfterSeconds = 2,
  ) {}

  /** Runs `fn` when a slot is free; 429 when `queue` requests already wait. */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw new DomainError(ErrorCode.TooManyRequests, `${what}: ${this.running + this.waiting.length} heavy admin requests are in progress or waiting; try again shortly`, [], {
          retryAfterSeconds: this.retryAfterSeconds,
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes to the next in line
      else this.running--;
    }
  }

  get inUse(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}

/** The process's one limiter: one heavy admin request at a time, two more waiting. */
export const heavyWork = new HeavyWorkLimiter(1, 2);

/** A turn of the event loop for I/O (DNS datagrams) between slices of synchronous work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
