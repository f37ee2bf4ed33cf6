import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { tableArray } from './table-memory';

const COMPILED = path.resolve(__dirname, '../../../dist/src/routing/tables/table-memory.js');

/**
 * Full collections (--trace-gc "Mark-Compact" lines) in a fresh node that keeps twelve 64 MiB
 * arrays made by `make` (a JavaScript expression of n, the length), a few small objects between.
 */
function fullCollections(make: string): number {
  const script = `const { tableArray } = require(${JSON.stringify(COMPILED)}); const keep = [];
    for (let i = 0; i < 12; i++) { const n = 64 << 20; keep.push(${make}); for (let j = 0; j < 1000; j++) keep.push({ j }); }`;
  const run = spawnSync(process.execPath, ['--trace-gc', '-e', script], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  return run.stdout.split('\n').filter((l) => l.includes('Mark-Compact')).length;
}

describe('tableArray', () => {
  it.each([
    ['Uint8Array', Uint8Array, 1],
    ['Uint16Array', Uint16Array, 2],
    ['Int32Array', Int32Array, 4],
    ['Uint32Array', Uint32Array, 4],
    ['Float64Array', Float64Array, 8],
  ] as const)('makes a zero-filled %s of the length asked', (_name, kind, width) => {
    const a = tableArray(kind as unknown as typeof Uint8Array, 1000);
    expect(a).toBeInstanceOf(kind);
    expect(a.length).toBe(1000);
    expect(a.byteLength).toBe(1000 * width);
    expect(a.every((v) => v === 0)).toBe(true);
    a[999] = 7;
    expect(a[999]).toBe(7);
  });

  it('keeps its memory out of the count that starts full collections (ArrayBuffers of the same size start them)', () => {
    // The control shows the trigger works: plain typed arrays of this size do start full
    // collections (2-4 of them: how many depends on when V8 finishes incremental marking).
    expect(fullCollections('new Uint8Array(n)')).toBeGreaterThanOrEqual(1);
    expect(fullCollections('tableArray(Uint8Array, n)')).toBe(0);
  });
});
