/**
 * A short CPU slice for the threads that answer DNS (DNS_CPU_SLICE_US), through the native addon
 * native/cpu_slice.c (sched_setattr's sched_runtime).
 *
 * Why: on Linux 6.12 and later the fair scheduler (EEVDF) lets a thread that wakes with a shorter
 * slice than the running one preempt it; otherwise the woken thread waits until the running
 * thread's slice (about 1.4 ms on two CPUs) is used up. A DNS thread sleeps between queries and
 * needs a few tens of microseconds per answer, so behind the API's request handling or a client
 * on the same CPUs it waited up to a slice for each one. A nice value does not help: it changes
 * the share of CPU time, not the wait after a wake-up (bench/RESULTS.md measured both). A slice
 * gives a thread no more CPU time, and any process may ask it for its own threads.
 *
 * Linux copies a thread's slice to the threads and processes it creates afterwards (also with
 * SCHED_FLAG_RESET_ON_FORK, on 6.18): with DNS_WORKERS=0 the libuv pool threads and a child
 * process the main thread starts later (the anycast worker restarted, which runs SCHED_IDLE
 * anyway) begin with the short slice too. It changes how soon they run after a wake-up, not
 * their share of the CPU.
 *
 * Kernels before 6.12 accept the request and ignore it; that is reported, like a missing addon,
 * as a reason, and the threads keep the kernel's slice.
 */
import * as fs from 'node:fs';
import { loadNativeAddon, nativeAddonPath } from './native-addon';

export const CPU_SLICE_ADDON = nativeAddonPath('cpu_slice');

interface CpuSliceAddon {
  /** Sets the slice of thread `tid` (0: the calling thread), in nanoseconds; throws as node:fs does. */
  set(tid: number, ns: number): void;
  /** The thread's slice in nanoseconds as the kernel reports it (0 where the kernel has none per thread). */
  get(tid: number): number;
}

/** The kernel's bounds for a requested slice, in microseconds (0 asks for the default). */
export const MIN_CPU_SLICE_US = 100;
export const MAX_CPU_SLICE_US = 100_000;

export interface CpuSliceOutcome {
  /** The threads whose slice was set. */
  readonly threads: number;
  /** The slice the kernel reports for the first of them, in microseconds; null when none was set. */
  readonly sliceUs: number | null;
  /** Why the request had no effect (or none on some threads); null when it took effect on every one. */
  readonly reason: string | null;
}

/** The thread ids of this process (Linux), or null where /proc does not list them. */
function ownThreads(): number[] | null {
  try {
    return fs
      .readdirSync('/proc/self/task')
      .map(Number)
      .filter((t) => Number.isInteger(t) && t > 0);
  } catch {
    return null;
  }
}

/**
 * Asks for a slice of `microseconds` for the calling thread (`scope` 'thread': the JavaScript
 * thread, the one that answers) or for every thread the process has now ('process': V8's helpers
 * too, for a process that does nothing but answer DNS). 0 restores the kernel's default. Never
 * throws: what did not take effect is in `reason`.
 */
export function requestCpuSlice(microseconds: number, scope: 'thread' | 'process', addonPath: string = CPU_SLICE_ADDON): CpuSliceOutcome {
  if (process.platform !== 'linux') return { threads: 0, sliceUs: null, reason: `per-thread CPU slices are a Linux feature; this is ${process.platform}` };
  const found = loadNativeAddon<CpuSliceAddon>(addonPath);
  if (!('addon' in found)) return { threads: 0, sliceUs: null, reason: found.reason };
  const tids = scope === 'thread' ? [0] : ownThreads();
  if (tids === null) return { threads: 0, sliceUs: null, reason: 'the threads of this process cannot be listed (/proc/self/task)' };
  const ns = microseconds * 1000;
  let threads = 0;
  let failure: string | null = null;
  for (const tid of tids) {
    try {
      found.addon.set(tid, ns);
      threads++;
    } catch (err) {
      // A thread that ended since the listing (ESRCH) is no failure.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') failure ??= (err as Error).message;
    }
  }
  if (threads === 0) return { threads, sliceUs: null, reason: failure ?? 'no thread to set' };
  // The calling thread is among those set in either scope.
  const sliceUs = found.addon.get(0) / 1000;
  if (microseconds > 0 && sliceUs !== microseconds) {
    return { threads, sliceUs, reason: `the kernel keeps its own slice (it reports ${sliceUs} µs; per-thread slices need Linux 6.12 or later)` };
  }
  return { threads, sliceUs, reason: failure };
}
