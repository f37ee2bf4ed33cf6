import * as fs from 'node:fs';
import * as os from 'node:os';

/** Linux 6.12 and later honour a thread's own CPU slice (EEVDF); earlier kernels ignore the request. */
export const PER_THREAD_SLICES = (() => {
  const [major, minor] = os.release().split('.').map(Number);
  return os.platform() === 'linux' && (major > 6 || (major === 6 && minor >= 12));
})();

/** The slice thread `tid` of process `pid` runs with, in nanoseconds, as /proc/PID/task/TID/sched shows it. */
export function threadSlice(pid: number, tid: number = pid): number {
  const text = fs.readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8');
  const m = /^se\.slice\s*:\s*(\d+)/m.exec(text);
  if (m === null) throw new Error(`/proc/${pid}/task/${tid}/sched has no se.slice line`);
  return Number(m[1]);
}

/** The thread ids of process `pid`. */
export function threadsOf(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map(Number);
}
