import { aggregate, compileEvidence, entryKey, type SampleView } from './aggregate';

const NOW = Date.parse('2026-01-05T12:00:00Z');
const LONDON = 81 * 65536 + 2 * 256 + 69;
let id = 0;
function sample(sourceNet: string, rttMs: number, extra: Partial<SampleView> = {}): SampleView {
  return { id: ++id, family: 4, network: LONDON, placeKey: 'GB@51.5,-0.1', country: 'GB', region: 'us-east-1', rttMs, sourceId: sourceNet, sourceNet, observedAt: NOW - 60000, ...extra };
}
const many = (n: number, make: (i: number) => SampleView) => Array.from({ length: n }, (_, i) => make(i));
const OPTS = { now: NOW, halfLifeMs: 3600000, sourceCap: 50 };
const at = (rows: ReturnType<typeof aggregate>, level: string, region = 'us-east-1') => rows.find((r) => r.level === level && r.region === region);

describe('aggregate: the robust statistic', () => {
  it.each([
    { name: 'the median of three sources', samples: [sample('a', 10), sample('b', 20), sample('c', 90)], median: 20, sources: 3 },
    { name: 'one source flooding extremes is one voice of four', samples: [sample('a', 15), sample('b', 15), sample('c', 16), ...many(5000, () => sample('x', 59000))], median: 15, sources: 4 },
    { name: 'many sources in one network are one voice', samples: [sample('a', 15), sample('b', 16), ...many(40, (i) => sample('net:6.6.6.0/24', 1, { sourceId: `beacon:${i}` }))], median: 15, sources: 42 },
    { name: 'a source counts only its newest sourceCap samples', samples: [...many(60, (i) => sample('a', 100 + i, { observedAt: NOW - 1000 * (60 - i) }))], median: 135 },
    {
      name: 'old samples weigh less (decay)',
      samples: [sample('a', 10, { observedAt: NOW - 10 * 3600000 }), sample('a', 10, { observedAt: NOW - 10 * 3600000 }), sample('a', 80, { observedAt: NOW })],
      median: 80, sources: 1,
    },
  ])('$name', ({ samples, median, sources }: { samples: SampleView[]; median: number; sources?: number }) => {
    const rows = aggregate(samples, OPTS);
    const r = at(rows, '/24')!;
    expect(r.medianMs).toBeCloseTo(median, 0);
    if (sources !== undefined) expect(r.sources).toBe(sources);
  });

  it('caps per source: 60 samples count as 50', () => {
    const rows = aggregate(many(60, (i) => sample('a', 100 + i, { observedAt: NOW - 1000 * (60 - i) })), OPTS);
    expect(at(rows, '/24')).toMatchObject({ samples: 50, sources: 1, sourceNets: 1 });
  });

  it('rolls every sample up to /20, /16, class and country; IPv6 to /40 and /32', () => {
    const v6 = 0x2001 * 2 ** 32 + 0xdb8 * 65536 + 0x77;
    const rows = aggregate([sample('a', 10), sample('b', 12, { family: 6, network: v6, placeKey: null, country: 'DE' })], OPTS);
    expect(rows.map((r) => `${r.level} ${r.key}`).sort()).toEqual([
      `/16 ${Math.floor(LONDON / 256)}`, `/20 ${Math.floor(LONDON / 16)}`, `/24 ${LONDON}`,
      `/32 ${Math.floor(v6 / 65536)}`, `/40 ${Math.floor(v6 / 256)}`, `/48 ${v6}`,
      'class GB@51.5,-0.1', 'country DE', 'country GB',
    ]);
    expect(entryKey('/24', String(LONDON))).toEqual({ level: 'prefix', key: '81.2.69.0/24' });
    expect(entryKey('/20', String(Math.floor(LONDON / 16)))).toEqual({ level: 'prefix', key: '81.2.64.0/20' });
    expect(entryKey('/16', String(Math.floor(LONDON / 256)))).toEqual({ level: 'prefix', key: '81.2.0.0/16' });
    expect(entryKey('/48', String(v6))).toEqual({ level: 'prefix', key: '2001:db8:77::/48' });
    expect(entryKey('/32', String(Math.floor(v6 / 65536)))).toEqual({ level: 'prefix', key: '2001:db8:0::/32' });
  });

  it('trusts a (network, region) only with enough samples and sources', () => {
    const rows = aggregate([...many(3, () => sample('a', 10)), ...many(3, () => sample('b', 10)), ...many(3, () => sample('c', 10, { region: 'eu-west-1' }))], OPTS);
    const input = compileEvidence(rows, 6, 2);
    expect(input.entries.find((e) => e.key === '81.2.69.0/24')?.evidence).toEqual([{ region: 'us-east-1', rttMs: 10, samples: 6, sources: 2 }]);
    expect(compileEvidence(rows, 7, 2).entries).toEqual([]);
    expect(compileEvidence(rows, 6, 3).entries).toEqual([]);
  });
});
