import * as path from 'node:path';
import { PER_THREAD_SLICES, threadSlice, threadsOf } from '../../test/support/sched';
import { CPU_SLICE_ADDON, requestCpuSlice } from './cpu-slice';
import { loadNativeAddon } from './native-addon';

/**
 * Against the running kernel: /proc/self/task/TID/sched shows each thread's slice. On a kernel
 * before 6.12 the request must be reported as not applied instead.
 */
describe('requestCpuSlice', () => {
  const main = process.pid;
  const others = () => threadsOf(main).filter((t) => t !== main);
  afterEach(() => {
    requestCpuSlice(0, 'process');
  });

  it("'thread': the calling thread only; 0 gives it back the kernel's slice", () => {
    const kernelDefault = threadSlice(main);
    const outcome = requestCpuSlice(300, 'thread');
    if (PER_THREAD_SLICES) {
      expect(outcome).toEqual({ threads: 1, sliceUs: 300, reason: null });
      expect(threadSlice(main)).toBe(300_000);
      for (const tid of others()) expect(threadSlice(main, tid)).toBe(kernelDefault);
    } else {
      expect(outcome.reason).toMatch(/Linux 6\.12 or later/);
    }
    expect(requestCpuSlice(0, 'thread')).toMatchObject({ threads: 1, reason: null });
    expect(threadSlice(main)).toBe(kernelDefault);
  });

  it("'process': every thread the process has", () => {
    const listed = threadsOf(main);
    const outcome = requestCpuSlice(2500, 'process');
    expect(outcome.threads).toBeGreaterThan(1);
    if (PER_THREAD_SLICES) {
      expect(outcome).toMatchObject({ sliceUs: 2500, reason: null });
      const alive = new Set(threadsOf(main));
      for (const tid of listed.filter((t) => alive.has(t))) expect(threadSlice(main, tid)).toBe(2_500_000);
    } else {
      expect(outcome.reason).toMatch(/Linux 6\.12 or later/);
    }
  });

  it('without the addon: nothing set, and the reason says it is not built', () => {
    const before = threadSlice(main);
    const outcome = requestCpuSlice(300, 'thread', path.join(__dirname, 'no-such-addon.node'));
    expect(outcome).toMatchObject({ threads: 0, sliceUs: null });
    expect(outcome.reason).toMatch(/no-such-addon\.node is not built/);
    expect(threadSlice(main)).toBe(before);
  });

  it("the addon's errors are shaped as Node's: code, errno, syscall", () => {
    const found = loadNativeAddon<{ set(tid: number, ns: number): void }>(CPU_SLICE_ADDON);
    if (!('addon' in found)) throw new Error(found.reason);
    // A thread id beyond pid_max: no such thread.
    expect(() => found.addon.set(2 ** 30, 100_000)).toThrow(expect.objectContaining({ code: 'ESRCH', errno: -3, syscall: 'sched_getattr', message: 'ESRCH: no such process, sched_getattr' }));
    expect(() => found.addon.set(-1, 100_000)).toThrow('set: a thread id and a slice in nanoseconds (whole numbers, 0 or more) are required');
  });
});
