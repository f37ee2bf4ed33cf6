import { parseCaidaAsRel } from './parse-caida';
import { TopologyError, type TopologyProblem } from './topology';

function problemsOf(text: string, options = {}): TopologyProblem[] {
  try {
    parseCaidaAsRel(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return [...(error as TopologyError).problems];
  }
  throw new Error('expected a TopologyError');
}

describe('parseCaidaAsRel', () => {
  it('reads serial-1 and serial-2 lines, comments, blank lines and CRLF', () => {
    const text = [
      '# source:topology|BGP|20240101|...',
      '# <provider-as>|<customer-as>|-1',
      '1|2|-1',
      '',
      '1|3|0|bgp',
      '2|4|-1|mlp\r',
      '  3|4|-1  ',
      '5 | 4 | -1 | bgp',
    ].join('\n');
    const topology = parseCaidaAsRel(text);
    expect(topology.summary).toEqual({ ases: 5, links: 5, providerCustomerLinks: 4, peerLinks: 1, tier1: [1, 3] });
    expect(topology.relationship(5, 4)).toBe('customer');
    expect(topology.relationship(1, 2)).toBe('customer');
    expect(topology.relationship(2, 1)).toBe('provider');
    expect(topology.relationship(3, 1)).toBe('peer');
    expect(topology.relationship(4, 3)).toBe('provider');
    expect(topology.relationship(2, 3)).toBeNull();
  });

  it('accepts 32-bit ASNs up to 4294967295 and ignores an exact duplicate', () => {
    const topology = parseCaidaAsRel('4294967295|1|-1\n4294967295|1|-1\n');
    expect(topology.summary.links).toBe(1);
    expect(topology.has(4294967295)).toBe(true);
  });

  it.each([
    ['unknown relation', '1|2|1', { where: 'line 1', rule: 'relation' }],
    ['too few fields', '1|2', { where: 'line 1', rule: 'format' }],
    ['too many fields', '1|2|-1|bgp|x', { where: 'line 1', rule: 'format' }],
    ['self-link', '7|7|0', { where: 'line 1', rule: 'self-link' }],
    ['ASN 0', '0|2|-1', { where: 'line 1', rule: 'asn-range' }],
    ['ASN above 32 bits', '4294967296|2|-1', { where: 'line 1', rule: 'asn-range' }],
    ['not a number', 'AS1|2|-1', { where: 'line 1', rule: 'asn-range' }],
    ['negative ASN', '-5|2|-1', { where: 'line 1', rule: 'asn-range' }],
    ['eleven digits', '00000000001|2|-1', { where: 'line 1', rule: 'asn-range' }],
    ['relation -10', '1|2|-10', { where: 'line 1', rule: 'relation' }],
    ['empty relation', '1|2|', { where: 'line 1', rule: 'relation' }],
  ])('rejects %s', (_name, text, problem) => {
    expect(problemsOf(text)).toEqual([expect.objectContaining(problem)]);
  });

  it('names the line of every problem, counting comments and blank lines', () => {
    const text = ['# header', '1|2|-1', '', '2|3|x', '3|3|0', '1|4|-1'].join('\n');
    expect(problemsOf(text).map((p) => `${p.where}: ${p.rule}`)).toEqual(['line 4: relation', 'line 5: self-link']);
  });

  it('rejects a duplicate link with a conflicting relation or direction, naming both lines', () => {
    const problems = problemsOf('1|2|-1\n1|2|0\n2|1|-1\n3|4|0\n4|3|0\n');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ where: 'line 2', rule: 'conflict' });
    expect(problems[0].message).toContain('line 1');
    expect(problems[1]).toMatchObject({ where: 'line 3', rule: 'conflict' });
  });

  it('rejects a provider-customer cycle and names an AS on it', () => {
    // 10 -> 20 -> 30 -> 10 is a cycle; 40 hangs below it and 50 above it.
    const text = ['10|20|-1', '20|30|-1', '30|10|-1', '30|40|-1', '50|10|-1'].join('\n');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0].rule).toBe('cycle');
    expect(problems[0].where).toMatch(/^line [123]$/);
    const onCycle = Number(/through AS (\d+)/.exec(problems[0].message)![1]);
    expect([10, 20, 30]).toContain(onCycle);
    expect(problems[0].message).toMatch(/AS (10|20|30) -> provider AS (10|20|30) -> provider AS (10|20|30) -> provider AS (10|20|30)/);
  });

  it('stops at the size limits', () => {
    expect(problemsOf('1|2|-1\n1|3|-1\n1|4|-1\n', { maxLinks: 2 })).toEqual([
      expect.objectContaining({ where: 'line 3', rule: 'limit' }),
    ]);
    expect(problemsOf('1|2|-1\n1|3|-1\n1|4|-1\n', { maxAses: 3 })).toEqual([
      expect.objectContaining({ where: 'line 3', rule: 'limit' }),
    ]);
  });

  it('lists at most 100 problems but counts all of them', () => {
    const text = Array.from({ length: 150 }, (_, i) => `${i + 1}|${i + 1}|0`).join('\n');
    try {
      parseCaidaAsRel(text);
      throw new Error('expected a TopologyError');
    } catch (error) {
      const e = error as TopologyError;
      expect(e.problems).toHaveLength(100);
      expect(e.problemCount).toBe(150);
      expect(e.message).toContain('and 147 more');
    }
  });

  it('rejects invalid limits', () => {
    expect(() => parseCaidaAsRel('1|2|-1', { maxAses: 0 })).toThrow(RangeError);
  });
});
