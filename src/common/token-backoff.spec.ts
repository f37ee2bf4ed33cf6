import { TOKEN_BACKOFF, TokenBackoff } from './token-backoff';

describe('TokenBackoff', () => {
  const T0 = 1_000_000;
  it.each([
    // failures in a row, then the wait in ms
    [1, 0],
    [TOKEN_BACKOFF.FREE_FAILURES, 0],
    [TOKEN_BACKOFF.FREE_FAILURES + 1, 1000],
    [TOKEN_BACKOFF.FREE_FAILURES + 2, 2000],
    [TOKEN_BACKOFF.FREE_FAILURES + 4, 8000],
    [TOKEN_BACKOFF.FREE_FAILURES + 7, 60_000],
    [TOKEN_BACKOFF.FREE_FAILURES + 100, 60_000],
  ])('after %i failures the source waits %i ms', (failures, wait) => {
    const b = new TokenBackoff();
    for (let i = 0; i < failures; i++) b.fail('192.0.2.1', T0);
    expect(b.waitMs('192.0.2.1', T0)).toBe(wait);
    expect(b.waitMs('192.0.2.2', T0)).toBe(0);
  });

  it('forgets a source that has not failed for FORGET_MS, and the wait runs out', () => {
    const b = new TokenBackoff();
    for (let i = 0; i < TOKEN_BACKOFF.FREE_FAILURES + 1; i++) b.fail('198.51.100.1', T0);
    expect(b.waitMs('198.51.100.1', T0 + 999)).toBe(1);
    expect(b.waitMs('198.51.100.1', T0 + 1000)).toBe(0);
    b.fail('198.51.100.1', T0 + TOKEN_BACKOFF.FORGET_MS + 1000);
    expect(b.waitMs('198.51.100.1', T0 + TOKEN_BACKOFF.FORGET_MS + 1000)).toBe(0);
  });

  it('remembers at most MAX_SOURCES sources', () => {
    const b = new TokenBackoff([], { ...TOKEN_BACKOFF, FREE_FAILURES: 0, MAX_SOURCES: 2 });
    b.fail('a', T0);
    b.fail('b', T0);
    b.fail('c', T0);
    expect([b.waitMs('a', T0), b.waitMs('b', T0), b.waitMs('c', T0)]).toEqual([0, 1000, 1000]);
  });
});
