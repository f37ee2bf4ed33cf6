import * as http from 'node:http';
import * as net from 'node:net';
import { nextSlot, PROBE_GUARD_MS, probePhaseMs, ProbeScheduler, TIMER_PREFIX, type ProbeSpec, type TimerAdapter } from './probe-scheduler';
import type { ProbeResult } from './probes/probe-result';

const OK: ProbeResult = { ok: true, latencyMs: 1, reason: 'status 200' };
const spec = (url = 'http://region.test/health', timeoutMs = 50): ProbeSpec => ({ type: 'http', url, timeoutMs });

/** Behaves like NestJS SchedulerRegistry: duplicate names and unknown names throw. */
class RegistryLike implements TimerAdapter {
  readonly timeouts = new Map<string, NodeJS.Timeout>();
  add(name: string, handle: NodeJS.Timeout): void {
    if (this.timeouts.has(name)) throw new Error(`Timeout with the given name (${name}) already exists`);
    this.timeouts.set(name, handle);
  }
  delete(name: string): void {
    const handle = this.timeouts.get(name);
    if (!handle) throw new Error(`No Timeout was found with the given name (${name})`);
    clearTimeout(handle);
    this.timeouts.delete(name);
  }
}

describe('probe phase (H15: spread over the interval)', () => {
  it('is deterministic and inside the interval', () => {
    expect(probePhaseMs('eu-west-1', 10_000)).toBe(probePhaseMs('eu-west-1', 10_000));
    for (const region of ['a', 'eu-west-1', 'us-east-1', 'ap-northeast-1']) {
      const phase = probePhaseMs(region, 10_000);
      expect(phase).toBeGreaterThanOrEqual(0);
      expect(phase).toBeLessThan(10_000);
    }
  });

  it('spreads 1,000 regions evenly across a 10 s interval', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) buckets[Math.floor(probePhaseMs(`region-${i}`, 10_000) / 1000)]++;
    for (const count of buckets) {
      expect(count).toBeGreaterThanOrEqual(70);
      expect(count).toBeLessThanOrEqual(130);
    }
  });

  it('nextSlot is the first time after now at the phase', () => {
    const phase = probePhaseMs('eu-west-1', 10_000);
    expect(nextSlot('eu-west-1', 10_000, 1_000_000)).toBe(1_000_000 + phase);
    expect(nextSlot('eu-west-1', 10_000, 1_000_000 + phase)).toBe(1_010_000 + phase);
    expect(nextSlot('eu-west-1', 10_000, 1_000_000 + phase + 1)).toBe(1_010_000 + phase);
  });
});

describe('ProbeScheduler (fake clock)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A probe that takes `durationMs` of (fake) time and records when it ran. */
  function timedProbe(durationMs: number) {
    const starts: number[] = [];
    const specs: ProbeSpec[] = [];
    const signals: AbortSignal[] = [];
    let running = 0;
    let maxRunning = 0;
    const runProbe = (s: ProbeSpec, signal: AbortSignal) => {
      starts.push(Date.now());
      specs.push(s);
      signals.push(signal);
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<ProbeResult>((resolve) => {
        const done = (result: ProbeResult) => {
          clearTimeout(timer);
          running--;
          resolve(result);
        };
        const timer = setTimeout(() => done(OK), durationMs);
        signal.addEventListener('abort', () => done({ ok: false, latencyMs: 0, reason: 'aborted' }), { once: true });
      });
    };
    return { runProbe, starts, specs, signals, maxRunning: () => maxRunning };
  }

  it('first runs at the region phase, then every interval, delivering each result', async () => {
    const probe = timedProbe(10);
    const results: [string, ProbeResult][] = [];
    const scheduler = new ProbeScheduler({ runProbe: probe.runProbe, onResult: (region, result) => void results.push([region, result]) });
    scheduler.upsert('eu-west-1', spec(), 1000);
    const first = nextSlot('eu-west-1', 1000, 1_000_000);
    await jest.advanceTimersByTimeAsync(first - 1_000_000 + 3 * 1000 + 20);
    expect(probe.starts).toEqual([first, first + 1000, first + 2000, first + 3000]);
    expect(results).toEqual([
      ['eu-west-1', OK],
      ['eu-west-1', OK],
      ['eu-west-1', OK],
      ['eu-west-1', OK],
    ]);
    await scheduler.stopAll();
  });

  it('never overlaps a slow probe: the next run waits for the previous, at the next free slot', async () => {
    const probe = timedProbe(250); // 2.5 intervals
    const scheduler = new ProbeScheduler({ runProbe: probe.runProbe, onResult: () => undefined });
    scheduler.upsert('slow', spec('http://slow.test/', 1000), 100);
    await jest.advanceTimersByTimeAsync(2000);
    expect(probe.maxRunning()).toBe(1);
    expect(probe.starts.length).toBeGreaterThanOrEqual(6);
    const gaps = probe.starts.slice(1).map((start, i) => start - probe.starts[i]);
    for (const gap of gaps) expect(gap).toBe(300); // 250 ms run, then the next 100 ms slot
    await scheduler.stopAll();
  });

  it('keeps the schedule for an unchanged spec and uses a changed one from the next run', async () => {
    const probe = timedProbe(5);
    const scheduler = new ProbeScheduler({ runProbe: probe.runProbe, onResult: () => undefined });
    scheduler.upsert('r', spec('http://a.test/'), 1000);
    await jest.advanceTimersByTimeAsync(1000);
    const runs = probe.starts.length;
    scheduler.upsert('r', spec('http://a.test/'), 1000);
    await jest.advanceTimersByTimeAsync(1000);
    expect(probe.starts.length).toBe(runs + 1);
    scheduler.upsert('r', spec('http://b.test/'), 1000);
    await jest.advanceTimersByTimeAsync(1000);
    expect(probe.specs.at(-1)).toMatchObject({ url: 'http://b.test/' });
    await scheduler.stopAll();
  });

  it('drops the result of a run whose spec was replaced while it ran', async () => {
    const probe = timedProbe(500);
    const results: ProbeResult[] = [];
    const scheduler = new ProbeScheduler({ runProbe: probe.runProbe, onResult: (_r, result) => void results.push(result) });
    scheduler.upsert('r', spec('http://a.test/'), 1000);
    await jest.advanceTimersByTimeAsync(nextSlot('r', 1000, 1_000_000) - 1_000_000 + 10);
    expect(probe.starts).toHaveLength(1);
    scheduler.upsert('r', spec('http://b.test/'), 1000);
    expect(probe.signals[0].aborted).toBe(true);
    await jest.advanceTimersByTimeAsync(600);
    expect(results).toEqual([]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(probe.specs.at(-1)).toMatchObject({ url: 'http://b.test/' });
    expect(results).toHaveLength(1);
    await scheduler.stopAll();
  });

  it('remove aborts the in-flight run, drops its result and stops the schedule', async () => {
    const probe = timedProbe(500);
    const results: ProbeResult[] = [];
    const scheduler = new ProbeScheduler({ runProbe: probe.runProbe, onResult: (_r, result) => void results.push(result) });
    scheduler.upsert('r', spec(), 1000);
    await jest.advanceTimersByTimeAsync(nextSlot('r', 1000, 1_000_000) - 1_000_000 + 10);
    scheduler.remove('r');
    expect(probe.signals[0].aborted).toBe(true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(probe.starts).toHaveLength(1);
    expect(results).toEqual([]);
    expect(scheduler.regions()).toEqual([]);
  });

  it('registers each timeout with the adapter under one name and leaves none behind', async () => {
    const registry = new RegistryLike();
    const errors: unknown[] = [];
    const probe = timedProbe(5);
    const scheduler = new ProbeScheduler({
      runProbe: probe.runProbe,
      onResult: () => undefined,
      onError: (_r, error) => void errors.push(error),
      timers: registry,
    });
    scheduler.upsert('eu-west-1', spec(), 100);
    scheduler.upsert('us-east-1', spec(), 100);
    expect([...registry.timeouts.keys()].sort()).toEqual([`${TIMER_PREFIX}eu-west-1`, `${TIMER_PREFIX}us-east-1`]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(probe.starts.length).toBeGreaterThanOrEqual(18);
    expect(registry.timeouts.size).toBe(2);
    scheduler.remove('us-east-1');
    expect([...registry.timeouts.keys()]).toEqual([`${TIMER_PREFIX}eu-west-1`]);
    await scheduler.stopAll();
    expect(registry.timeouts.size).toBe(0);
    expect(errors).toEqual([]);
  });

  it('keeps probing when onResult throws or rejects, and reports the errors', async () => {
    const errors: string[] = [];
    let calls = 0;
    const scheduler = new ProbeScheduler({
      runProbe: async () => OK,
      onResult: () => {
        calls++;
        if (calls % 2 === 0) return Promise.reject(new Error('rejected'));
        throw new Error('thrown');
      },
      onError: (region, error) => void errors.push(`${region}: ${(error as Error).message}`),
    });
    scheduler.upsert('r', spec(), 100);
    await jest.advanceTimersByTimeAsync(450);
    expect(calls).toBe(4);
    expect(errors).toEqual(['r: thrown', 'r: rejected', 'r: thrown', 'r: rejected']);
    await scheduler.stopAll();
  });

  it('turns a probe that throws, rejects or never settles into a failed result', async () => {
    const results: ProbeResult[] = [];
    let call = 0;
    let hungSignal: AbortSignal | undefined;
    const scheduler = new ProbeScheduler({
      runProbe: (_s, signal) => {
        call++;
        if (call === 1) throw new Error('boom');
        if (call === 2) return Promise.reject(new Error('bad'));
        hungSignal = signal;
        return new Promise<ProbeResult>(() => undefined);
      },
      onResult: (_r, result) => void results.push(result),
    });
    scheduler.upsert('r', spec('http://r.test/', 50), 100);
    // Runs at the phase, +100 and +200 ms; the third hangs until the guard (50 + 1000 ms) ends it.
    await jest.advanceTimersByTimeAsync(100 + 200 + 50 + PROBE_GUARD_MS);
    expect(results.map((r) => r.reason)).toEqual([
      'probe error: boom',
      'probe error: bad',
      `probe did not finish within ${50 + PROBE_GUARD_MS} ms`,
    ]);
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(hungSignal?.aborted).toBe(true);
    await scheduler.stopAll();
  });

  it('stopAll does not wait for a probe that ignores its abort signal', async () => {
    const results: ProbeResult[] = [];
    const scheduler = new ProbeScheduler({
      runProbe: () => new Promise<ProbeResult>(() => undefined),
      onResult: (_r, result) => void results.push(result),
    });
    scheduler.upsert('r', spec('http://r.test/', 5000), 100);
    await jest.advanceTimersByTimeAsync(150);
    await scheduler.stopAll(); // no timers advanced: only the abort can end the run
    expect(results).toEqual([]);
    expect(scheduler.regions()).toEqual([]);
  });

  it('rejects an interval that is not a positive integer', () => {
    const scheduler = new ProbeScheduler({ onResult: () => undefined });
    expect(() => scheduler.upsert('r', spec(), 0)).toThrow('probe interval must be a positive integer');
    expect(() => scheduler.upsert('r', spec(), 1.5)).toThrow('probe interval must be a positive integer');
    expect(scheduler.regions()).toEqual([]);
  });
});

describe('ProbeScheduler with real probes', () => {
  it('never overlaps against a slow HTTP server, then stops cleanly', async () => {
    let active = 0;
    let maxActive = 0;
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      active++;
      maxActive = Math.max(maxActive, active);
      setTimeout(() => {
        active--;
        res.end('ok');
      }, 120);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const results: ProbeResult[] = [];
    const scheduler = new ProbeScheduler({ onResult: (_r, result) => void results.push(result) });
    try {
      scheduler.upsert('slow-region', { type: 'http', url: `http://127.0.0.1:${port}/health`, timeoutMs: 1000 }, 40);
      await sleep(900);
      expect(maxActive).toBe(1);
      expect(results.length).toBeGreaterThanOrEqual(3);
      expect(results.every((r) => r.ok && r.reason === 'status 200')).toBe(true);
      expect(results.every((r) => r.latencyMs >= 115)).toBe(true);

      await scheduler.stopAll();
      const after = requests;
      await sleep(300);
      expect(requests).toBe(after);
      expect(scheduler.regions()).toEqual([]);
    } finally {
      await scheduler.stopAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('stopAll aborts an in-flight probe at once and delivers nothing more', async () => {
    const server = http.createServer(() => undefined); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const results: ProbeResult[] = [];
    const scheduler = new ProbeScheduler({ onResult: (_r, result) => void results.push(result) });
    try {
      scheduler.upsert('hung', { type: 'http', url: `http://127.0.0.1:${port}/`, timeoutMs: 5000 }, 20);
      await sleep(100); // the first run has started and hangs
      const started = Date.now();
      await scheduler.stopAll();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(results).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reports TCP results, and failures once the port closes', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const results: ProbeResult[] = [];
    const scheduler = new ProbeScheduler({ onResult: (_r, result) => void results.push(result) });
    try {
      scheduler.upsert('tcp-region', { type: 'tcp', host: '127.0.0.1', port, timeoutMs: 500 }, 30);
      await waitFor(() => results.length >= 2);
      expect(results.slice(0, 2).map((r) => r.reason)).toEqual(['connected', 'connected']);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const seen = results.length;
      await waitFor(() => results.length >= seen + 3);
      expect(results.at(-1)).toMatchObject({ ok: false, reason: 'connection refused' });
    } finally {
      await scheduler.stopAll();
      if (server.listening) server.close();
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
