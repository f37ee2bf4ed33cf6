import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import { createTestDatabase, TEST_TOKEN, type TestDatabase } from './support/test-app';
import { startProcess, type ProcessApp } from './support/process-app';
import { addresses, query, waitFor } from './support/dns-client';
import { PER_THREAD_SLICES, threadSlice, threadsOf } from './support/sched';
import { requestCpuSlice } from '../src/common/cpu-slice';

/**
 * DNS_CPU_SLICE_US against the real process (dist/src/main.js): the thread that answers UDP asks
 * the kernel for a short CPU slice (src/common/cpu-slice.ts), read back from
 * /proc/PID/task/TID/sched. On a kernel before 6.12 the process must say it was not applied.
 */
function dnsWorkers(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', 'dns-worker.js'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('DNS_CPU_SLICE_US: the threads that answer DNS ask for a short CPU slice', () => {
  const dbs: TestDatabase[] = [];
  const apps: ProcessApp[] = [];
  const start = async (env: Record<string, string>): Promise<ProcessApp> => {
    const db = await createTestDatabase();
    dbs.push(db);
    const app = await startProcess({ ...db.env, ADMIN_TOKEN: TEST_TOKEN, ...env });
    apps.push(app);
    return app;
  };
  // A process inherits its parent thread's slice: this one's must be the kernel's, or the
  // processes started here would begin with a slice that is not their own doing.
  beforeAll(() => {
    requestCpuSlice(0, 'thread');
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await Promise.all(dbs.map((d) => d.drop()));
  });

  it('DNS_WORKERS=0: the main thread, which answers, gets it; the other threads keep the kernel slice; DNS answers', async () => {
    const app = await start({ DNS_WORKERS: '0', DNS_CPU_SLICE_US: '250' });
    const pid = app.child.pid!;
    const helpers = threadsOf(pid).filter((t) => t !== pid);
    expect(helpers.length).toBeGreaterThan(0);
    if (PER_THREAD_SLICES) {
      await waitFor('the slice line', async () => app.output.join('').includes('DNS answered on a CPU slice of 250 µs (DNS_CPU_SLICE_US)'));
      expect(threadSlice(pid)).toBe(250_000);
      for (const tid of helpers) expect(threadSlice(pid, tid)).not.toBe(250_000);
    } else {
      await waitFor('the warning', async () => /DNS_CPU_SLICE_US=250 not applied.*Linux 6\.12 or later/.test(app.output.join('')));
    }
    expect(addresses(await query(app.dnsPort, 'app.example.com', 'A')).length).toBeGreaterThan(0);
  });

  it('DNS_WORKERS unset (auto) on two CPUs or more: one worker, every thread of it on the default 100 µs; the main process keeps the kernel slice', async () => {
    expect(os.availableParallelism()).toBeGreaterThanOrEqual(2);
    const app = await start({});
    const pid = app.child.pid!;
    const workers = await waitFor('the DNS worker', async () => {
      const found = dnsWorkers(pid);
      return found.length === 1 ? found : undefined;
    }, 10000);
    expect(app.output.join('')).toContain('DNS over UDP answered by 1 worker process sharing port');
    expect(app.output.join('')).toContain('asking for a CPU slice of 100 µs (DNS_CPU_SLICE_US)');
    expect(addresses(await query(app.dnsPort, 'app.example.com', 'A')).length).toBeGreaterThan(0);
    if (PER_THREAD_SLICES) {
      const threads = threadsOf(workers[0]);
      expect(threads.length).toBeGreaterThan(1);
      for (const tid of threads) expect(threadSlice(workers[0], tid)).toBe(100_000);
      expect(threadSlice(pid)).not.toBe(100_000);
    } else {
      await waitFor('the warning', async () => /DNS_CPU_SLICE_US=100 not applied on every thread.*Linux 6\.12 or later/.test(app.output.join('')));
    }
  });

  it('DNS_CPU_SLICE_US=0: nothing is asked, every thread of both processes keeps the kernel slice', async () => {
    const app = await start({ DNS_WORKERS: '1', DNS_CPU_SLICE_US: '0' });
    const pid = app.child.pid!;
    expect(addresses(await query(app.dnsPort, 'app.example.com', 'A')).length).toBeGreaterThan(0);
    const [worker] = dnsWorkers(pid);
    expect(worker).toBeGreaterThan(0);
    const slices = new Set([...threadsOf(pid).map((tid) => threadSlice(pid, tid)), ...threadsOf(worker).map((tid) => threadSlice(worker, tid))]);
    expect(slices.size).toBe(1);
    expect(app.output.join('')).not.toMatch(/CPU slice|DNS_CPU_SLICE_US/);
  });
});
