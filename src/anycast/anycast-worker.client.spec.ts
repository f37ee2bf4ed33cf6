import * as fs from 'node:fs';
import * as os from 'node:os';
import * as zlib from 'node:zlib';
import { ErrorCode } from '../common/domain-error';
import { ANYCAST_MAX_QUEUED, AnycastWorker, SPOOL_BYTES } from './anycast-worker.client';

/** CAIDA as-rel text: a provider chain of `n` ASes (i is the provider of i + 1). */
function chain(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 1; i < n; i++) lines.push(`${i}|${i + 1}|-1`);
  return Buffer.from(lines.join('\n') + '\n');
}

/** CAIDA as-rel text: `ases` ASes, each the provider of the next `degree` (about ases x degree links). */
function dense(ases: number, degree: number): Buffer {
  const lines: string[] = [];
  for (let i = 1; i <= ases; i++) for (let k = 1; k <= degree && i + k <= ases; k++) lines.push(`${i}|${i + k}|-1`);
  return Buffer.from(lines.join('\n') + '\n');
}

/** The scheduling policy of every thread of `pid` (field 41 of /proc/PID/task/TID/stat; 5 = SCHED_IDLE). */
function policies(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[41 - 3]);
  });
}

const spools = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('georoute-topology-'));

describe('AnycastWorker (a child process at the lowest CPU priority)', () => {
  let restarts = 0;
  const worker = new AnycastWorker(async () => {
    restarts++;
  });
  afterAll(async () => {
    await worker.stop();
  });

  it('parses small topologies sent over the IPC channel, and answers in request order', async () => {
    const replies = await Promise.all([worker.request({ op: 'parse', format: 'caida', chunks: [chain(5)], compressed: false, keep: false }), worker.request({ op: 'discard' })]);
    expect(replies[0]).toMatchObject({ ok: true, summary: { ases: 5, links: 4 } });
    expect(replies[1]).toMatchObject({ ok: true });
  });

  it('runs every thread at SCHED_IDLE (chrt on Linux), V8 helpers included', async () => {
    if (process.platform !== 'linux') return;
    expect((await worker.request({ op: 'parse', format: 'caida', chunks: [chain(50)], compressed: false, keep: false })).ok).toBe(true);
    const pid = worker.pid!;
    const found = policies(pid);
    expect(found.length).toBeGreaterThan(1); // V8's helper threads too
    expect(new Set(found)).toEqual(new Set([5]));
  });

  it(`takes an upload over ${SPOOL_BYTES} bytes through a private temporary file, removed once parsed; gzip comes back`, async () => {
    const text = chain(120_000);
    expect(text.length).toBeGreaterThan(SPOOL_BYTES);
    const before = spools();
    const half = text.length >> 1;
    const reply = await worker.request({ op: 'parse', format: 'caida', chunks: [text.subarray(0, half), text.subarray(half)], compressed: false, keep: true });
    expect(reply).toMatchObject({ ok: true, summary: { ases: 120_000, links: 119_999 } });
    const gz = reply.ok ? reply.compressed! : new Uint8Array();
    expect(zlib.gunzipSync(gz).equals(text)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(spools()).toEqual(before);
  });

  it(`limits callers to ${ANYCAST_MAX_QUEUED} waiting requests; internal ones wait in the same line without taking a place`, async () => {
    // A long internal parse holds the worker, then internal housekeeping queues behind it.
    const before = spools();
    const internal = [worker.request({ op: 'parse', format: 'caida', chunks: [chain(150_000)], compressed: false, keep: false }, true)];
    for (let i = 0; i < 5; i++) internal.push(worker.request({ op: 'discard' }, true));
    const callers = Array.from({ length: ANYCAST_MAX_QUEUED }, () => worker.request({ op: 'discard' }));
    expect(worker.queued).toBe(ANYCAST_MAX_QUEUED);
    await expect(worker.request({ op: 'discard' })).rejects.toMatchObject({ code: ErrorCode.TooManyRequests, message: `the anycast worker is busy (${ANYCAST_MAX_QUEUED} requests ahead); try again shortly` });
    for (const r of await Promise.all([...internal, ...callers])) expect(r.ok).toBe(true);
    expect([worker.queued, worker.busy]).toEqual([0, 0]);
    expect((await worker.request({ op: 'discard' })).ok).toBe(true); // a place again
    await new Promise((r) => setTimeout(r, 50));
    expect(spools()).toEqual(before); // the parse's spool file removed
  });

  it('fails what a dying worker held; the next request starts a new one and reinstalls (onRestart)', async () => {
    expect((await worker.request({ op: 'discard' })).ok).toBe(true);
    const first = worker.pid!;
    const before = spools();
    const held = worker.request({ op: 'parse', format: 'caida', chunks: [chain(200_000)], compressed: false, keep: true });
    while (worker.busy === 0) await new Promise((r) => setTimeout(r, 1)); // spooled and sent
    process.kill(first, 'SIGKILL');
    await expect(held).rejects.toThrow(/the anycast worker exited \(SIGKILL\)/);
    await new Promise((r) => setTimeout(r, 50));
    expect(spools()).toEqual(before); // its temporary file went with it
    const restartsBefore = restarts;
    expect((await worker.request({ op: 'parse', format: 'caida', chunks: [chain(5)], compressed: false, keep: false })).ok).toBe(true);
    expect(restarts).toBe(restartsBefore + 1);
    expect(worker.pid).not.toBe(first);
  });

  it('answers a caller 503 once it has waited too long (a starved worker), keeping its place until the worker answers', async () => {
    const impatient = new AnycastWorker(async () => undefined, 100);
    try {
      // An internal parse of a large topology runs for far longer than the caller's 100 ms (800,000
      // links within the AS limit; a chain of 150,000 took under 100 ms on a fast, idle machine).
      const long = impatient.request({ op: 'parse', format: 'caida', chunks: [dense(200_000, 4)], compressed: false, keep: false }, true);
      // Its text goes to a spool file first: only once it is sent is the caller behind it.
      while (impatient.busy === 0) await new Promise((r) => setTimeout(r, 1));
      const t0 = Date.now();
      await expect(impatient.request({ op: 'discard' })).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
        message: 'the anycast worker did not answer within 100 ms: it runs only on CPU time nothing else needs, and this machine has had little to spare; try again later',
        extra: { retryAfterSeconds: 30 },
      });
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(impatient.queued).toBe(1); // still in the worker's line
      expect((await long).ok).toBe(true);
      while (impatient.queued > 0) await new Promise((r) => setTimeout(r, 5));
      expect(impatient.busy).toBe(0);
    } finally {
      await impatient.stop();
    }
  });

  it('stop() ends the process', async () => {
    const pid = worker.pid!;
    await worker.stop();
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
  });
});
