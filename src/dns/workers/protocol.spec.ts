import { sumCounters } from './protocol';

describe('sumCounters', () => {
  it('adds numbers, merges nested records key by key and keeps the lowest snapshot version', () => {
    type Counters = { replies: { udp: Record<string, number>; tcp: Record<string, number> }; cacheHits: number; snapshotVersion: number };
    const a: Counters = { replies: { udp: { NOERROR: 3, NXDOMAIN: 1 }, tcp: { NOERROR: 0 } }, cacheHits: 10, snapshotVersion: 7 };
    const b: Counters = { replies: { udp: { NOERROR: 2, REFUSED: 4 }, tcp: { NOERROR: 5 } }, cacheHits: 1, snapshotVersion: 6 };
    expect(sumCounters(a, b)).toEqual({ replies: { udp: { NOERROR: 5, NXDOMAIN: 1, REFUSED: 4 }, tcp: { NOERROR: 5 } }, cacheHits: 11, snapshotVersion: 6 });
  });

  it('leaves its arguments unchanged', () => {
    const a = { n: 1, inner: { m: 2 } };
    const b = { n: 2, inner: { m: 3 } };
    sumCounters(a, b);
    expect(a).toEqual({ n: 1, inner: { m: 2 } });
    expect(b).toEqual({ n: 2, inner: { m: 3 } });
  });
});
