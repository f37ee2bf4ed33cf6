import { FOREGROUND_MAX_MS, MAX_DEFER_MS, foregroundBusy, foregroundStarted, yieldToForeground } from './foreground';

describe('foreground: API requests in progress go before background work', () => {
  it.each([
    ['no request', [], 1000, false],
    ['one that just arrived', [1000], 1000, true],
    ['one that arrived FOREGROUND_MAX_MS - 1 ago', [1000 - FOREGROUND_MAX_MS + 1], 1000, true],
    ['one that arrived FOREGROUND_MAX_MS ago (a stream, a long upload): no longer', [1000 - FOREGROUND_MAX_MS], 1000, false],
    ['an old one and a new one', [0, 990], 1000, true],
  ] as [string, number[], number, boolean][])('busy: %s', (_name, arrivals, now, busy) => {
    const ends = arrivals.map((at) => foregroundStarted({}, at));
    try {
      expect(foregroundBusy(now)).toBe(busy);
    } finally {
      for (const end of ends) end();
    }
    expect(foregroundBusy(now)).toBe(false);
  });

  it('background work waits for a request in progress, and goes on as soon as it finishes', async () => {
    const end = foregroundStarted({});
    let resumed = false;
    const waiting = yieldToForeground().then(() => (resumed = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(resumed).toBe(false);
    end();
    const started = Date.now();
    await waiting;
    expect(Date.now() - started).toBeLessThan(MAX_DEFER_MS);
  });

  it('and never waits longer than MAX_DEFER_MS', async () => {
    const end = foregroundStarted({});
    try {
      const started = Date.now();
      await yieldToForeground();
      expect(Date.now() - started).toBeGreaterThanOrEqual(MAX_DEFER_MS - 1);
    } finally {
      end();
    }
  });
});
