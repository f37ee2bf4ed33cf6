import { runToEnd, type Steps } from '../routing/steps';
import { SliceClock, runInSlices } from './slices';

/** Steps that each take about `stepMs` of CPU, recording their order in `log`. */
function* busySteps(count: number, stepMs: number, log: string[]): Steps<number> {
  for (let i = 0; i < count; i++) {
    const until = performance.now() + stepMs;
    while (performance.now() < until);
    log.push(`step ${i}`);
    yield;
  }
  return count;
}

describe('runInSlices', () => {
  test('a build longer than a slice lets queued I/O callbacks run between its slices, and ends with its result', async () => {
    const log: string[] = [];
    const done = runInSlices(busySteps(40, 0.1, log), 0.5);
    setImmediate(() => log.push('turn'));
    expect(await done).toBe(40);
    const turn = log.indexOf('turn');
    expect(turn).toBeGreaterThan(0);
    expect(turn).toBeLessThan(log.length - 1); // before the build ended, not after
    expect(log.filter((l) => l.startsWith('step'))).toHaveLength(40);
  });

  test('a build shorter than a slice runs whole in the caller\'s turn', async () => {
    const log: string[] = [];
    const done = runInSlices(busySteps(3, 0, log), 50);
    expect(log).toEqual(['step 0', 'step 1', 'step 2']);
    expect(await done).toBe(3);
  });

  test('what a step throws rejects the promise, and no step runs after it', async () => {
    const ran: number[] = [];
    function* failing(): Steps<void> {
      ran.push(1);
      yield;
      throw new Error('bad input at step 2');
    }
    await expect(runInSlices(failing())).rejects.toThrow('bad input at step 2');
    expect(ran).toEqual([1]);
  });

  test('runToEnd gives the same result in one turn', () => {
    const log: string[] = [];
    expect(runToEnd(busySteps(5, 0, log))).toBe(5);
    expect(log).toHaveLength(5);
  });
});

describe('SliceClock', () => {
  test('a turn returns at once within the slice, and yields to I/O once the slice is over', async () => {
    const clock = new SliceClock(1);
    const log: string[] = [];
    setImmediate(() => log.push('turn'));
    await clock.turn(); // within the slice: microtask only
    expect(log).toEqual([]);
    const until = performance.now() + 2;
    while (performance.now() < until);
    await clock.turn();
    expect(log).toEqual(['turn']);
  });
});
