import type { ServiceInput } from '../../routing/snapshot';
import { SnapshotAssembler, snapshotMessages, sumCounters, type WorkerSnapshot } from './protocol';

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

describe('a snapshot in parts: snapshotMessages and SnapshotAssembler', () => {
  const services = (n: number): ServiceInput[] => Array.from({ length: n }, (_, k) => ({ fqdn: `s${k}.example.com`, policy: 'proximity', regions: ['r1'] }));
  const snapshot = (version: number, n: number): WorkerSnapshot => ({ type: 'snapshot', version, builtAt: '2026-12-07T00:00:00.000Z', input: { zones: [], regions: [], services: services(n) } });
  /** JSON like the IPC channel: what arrives is a copy. */
  const overIpc = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T;

  it.each([
    [0, 500, 1],
    [500, 500, 1],
    [501, 500, 3],
    [10_000, 500, 21],
    [7, 3, 4],
  ])('%i services, %i a part: %i messages, put together as sent', (n, perPart, count) => {
    const sent = snapshot(4, n);
    const messages = snapshotMessages(sent, perPart);
    expect(messages).toHaveLength(count);
    for (const m of messages) if (m.type === 'snapshot-part') expect(m.services.length).toBeLessThanOrEqual(perPart);
    const assembler = new SnapshotAssembler();
    const out = messages.map((m) => assembler.add(overIpc(m)));
    expect(out.slice(0, -1).every((x) => x === null)).toBe(true);
    expect(out[out.length - 1]!.input).toEqual(sent.input);
    expect(out[out.length - 1]!.version).toBe(4);
  });

  it('parts of an earlier version are dropped when another begins; a snapshot missing parts is null', () => {
    const assembler = new SnapshotAssembler();
    const first = snapshotMessages(snapshot(1, 10), 4);
    const second = snapshotMessages(snapshot(2, 10), 4);
    assembler.add(first[0]);
    for (const m of second.slice(0, -1)) expect(assembler.add(m)).toBeNull();
    expect(assembler.add(second[second.length - 1])!.input.services).toHaveLength(10);
    // Version 3 loses a part: not applied halfway.
    const third = snapshotMessages(snapshot(3, 10), 4);
    assembler.add(third[0]);
    expect(assembler.add(third[third.length - 1])).toBeNull();
    // And the next whole snapshot is unaffected.
    expect(assembler.add(snapshot(5, 2))!.input.services).toHaveLength(2);
  });
});
