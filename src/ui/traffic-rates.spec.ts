import { answerKey, CounterReading, trafficRates, windowStart } from './traffic-rates';

const reading = (at: number, replies: number, answers: [string, string, number][]): CounterReading => ({
  at,
  replies,
  answers: new Map(answers.map(([service, region, n]) => [answerKey(service, region), n])),
});

describe('trafficRates', () => {
  const cases: { name: string; older: CounterReading | null; newer: CounterReading; expected: object }[] = [
    {
      name: 'one reading: totals only, every rate 0',
      older: null,
      newer: reading(10_000, 7, [['app.example.com', 'eu-west-1', 5]]),
      expected: { windowSeconds: 0, repliesPerSecond: 0, regions: [{ region: 'eu-west-1', qps: 0, total: 5 }], answers: [{ service: 'app.example.com', region: 'eu-west-1', qps: 0, total: 5 }] },
    },
    {
      name: 'growth over 10 s, summed per region, busiest first',
      older: reading(0, 100, [['app.example.com', 'eu-west-1', 10], ['cdn.example.com', 'eu-west-1', 0], ['app.example.com', 'us-east-1', 50]]),
      newer: reading(10_000, 200, [['app.example.com', 'eu-west-1', 40], ['cdn.example.com', 'eu-west-1', 20], ['app.example.com', 'us-east-1', 60]]),
      expected: {
        windowSeconds: 10,
        repliesPerSecond: 10,
        regions: [{ region: 'eu-west-1', qps: 5, total: 60 }, { region: 'us-east-1', qps: 1, total: 60 }],
        answers: [
          { service: 'app.example.com', region: 'eu-west-1', qps: 3, total: 40 },
          { service: 'cdn.example.com', region: 'eu-west-1', qps: 2, total: 20 },
          { service: 'app.example.com', region: 'us-east-1', qps: 1, total: 60 },
        ],
      },
    },
    {
      name: 'an answer first seen in the newer reading counts from zero; no region is the empty name',
      older: reading(0, 0, []),
      newer: reading(3_000, 1, [['app.example.com', '', 1]]),
      expected: { windowSeconds: 3, repliesPerSecond: 0.33, regions: [{ region: '', qps: 0.33, total: 1 }], answers: [{ service: 'app.example.com', region: '', qps: 0.33, total: 1 }] },
    },
    {
      name: 'a counter that went down (restart) counts from zero, never negative',
      older: reading(0, 500, [['app.example.com', 'eu-west-1', 900]]),
      newer: reading(2_000, 4, [['app.example.com', 'eu-west-1', 8]]),
      expected: { windowSeconds: 2, repliesPerSecond: 2, regions: [{ region: 'eu-west-1', qps: 4, total: 8 }], answers: [{ service: 'app.example.com', region: 'eu-west-1', qps: 4, total: 8 }] },
    },
    {
      name: 'same instant: no rate',
      older: reading(5_000, 1, [['a.example', 'r1', 1]]),
      newer: reading(5_000, 9, [['a.example', 'r1', 9]]),
      expected: { windowSeconds: 0, repliesPerSecond: 0, regions: [{ region: 'r1', qps: 0, total: 9 }], answers: [{ service: 'a.example', region: 'r1', qps: 0, total: 9 }] },
    },
  ];
  it.each(cases)('$name', ({ older, newer, expected }) => {
    expect(trafficRates(older, newer)).toEqual(expected);
  });
});

describe('windowStart', () => {
  const at = (...times: number[]) => times.map((t) => reading(t, 0, []));
  const cases: { name: string; readings: CounterReading[]; windowMs: number; expectedAt: number | null }[] = [
    { name: 'no readings', readings: [], windowMs: 10_000, expectedAt: null },
    { name: 'one reading', readings: at(0), windowMs: 10_000, expectedAt: null },
    { name: 'the oldest within the window', readings: at(0, 2_000, 4_000, 12_000, 14_000), windowMs: 10_000, expectedAt: 4_000 },
    { name: 'nothing within the window: the one before the newest', readings: at(0, 30_000), windowMs: 10_000, expectedAt: 0 },
    { name: 'exactly the window counts', readings: at(0, 10_000), windowMs: 10_000, expectedAt: 0 },
  ];
  it.each(cases)('$name', ({ readings, windowMs, expectedAt }) => {
    expect(windowStart(readings, windowMs)?.at ?? null).toBe(expectedAt);
  });
});
