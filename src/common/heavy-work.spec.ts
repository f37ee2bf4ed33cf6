import { DomainError, ErrorCode } from './domain-error';
import { HeavyWorkLimiter } from './heavy-work';

describe('HeavyWorkLimiter', () => {
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  };

  it('runs one at a time, queues up to the limit, refuses the rest with 429 and Retry-After', async () => {
    const limiter = new HeavyWorkLimiter(1, 2, 3);
    const order: string[] = [];
    const first = gate();
    const a = limiter.run('a', async () => { order.push('a start'); await first.opened; order.push('a end'); return 'a'; });
    const b = limiter.run('b', async () => { order.push('b'); return 'b'; });
    const c = limiter.run('c', async () => { order.push('c'); return 'c'; });
    expect(limiter.inUse).toEqual({ running: 1, waiting: 2 });
    const refused = await limiter.run('config apply', async () => 'd').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe(ErrorCode.TooManyRequests);
    expect((refused as DomainError).extra.retryAfterSeconds).toBe(3);
    expect((refused as DomainError).message).toContain('config apply');
    first.open();
    expect(await Promise.all([a, b, c])).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['a start', 'a end', 'b', 'c']);
    expect(limiter.inUse).toEqual({ running: 0, waiting: 0 });
  });

  it('a failing task frees its slot', async () => {
    const limiter = new HeavyWorkLimiter(1, 0);
    await expect(limiter.run('x', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await limiter.run('y', async () => 'ok')).toBe('ok');
  });

  const cases = [
    { concurrency: 2, queue: 0, started: 2, refusedAt: 3 },
    { concurrency: 1, queue: 1, started: 2, refusedAt: 3 },
    { concurrency: 3, queue: 2, started: 5, refusedAt: 6 },
  ];
  it.each(cases)('concurrency $concurrency, queue $queue: the request number $refusedAt is refused', async ({ concurrency, queue, started, refusedAt }) => {
    const limiter = new HeavyWorkLimiter(concurrency, queue);
    const g = gate();
    const accepted = Array.from({ length: started }, (_, i) => limiter.run(`t${i}`, () => g.opened.then(() => i)));
    await expect(limiter.run(`t${refusedAt}`, async () => -1)).rejects.toBeInstanceOf(DomainError);
    g.open();
    expect(await Promise.all(accepted)).toEqual(Array.from({ length: started }, (_, i) => i));
  });
});
