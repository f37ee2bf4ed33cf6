import { parseTopologyJson } from './parse-json';
import { TopologyError, type TopologyProblem } from './topology';

function problemsOf(input: unknown, options = {}): TopologyProblem[] {
  try {
    parseTopologyJson(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return [...(error as TopologyError).problems];
  }
  throw new Error('expected a TopologyError');
}

const link = (a: number, b: number, relation = 'provider-customer') => ({ a, b, relation });

describe('parseTopologyJson', () => {
  it('reads ASes with locations and links from a string or a parsed value', () => {
    const doc = {
      ases: [
        { asn: 3356, latitude: 39, longitude: -77.5, countryCode: 'us' },
        { asn: 64501 },
        { asn: 99, countryCode: 'FR' },
      ],
      links: [link(3356, 64501), link(3356, 1299, 'peer')],
    };
    for (const input of [doc, JSON.stringify(doc)]) {
      const topology = parseTopologyJson(input);
      expect(topology.summary).toEqual({ ases: 4, links: 2, providerCustomerLinks: 1, peerLinks: 1, tier1: [3356] });
      expect(topology.attributesAt(topology.indexOf(3356))).toEqual({ asn: 3356, latitude: 39, longitude: -77.5, countryCode: 'US' });
      expect(topology.attributesAt(topology.indexOf(99))).toEqual({ asn: 99, countryCode: 'FR' });
      expect(topology.isLocated(topology.indexOf(64501))).toBe(false);
      expect(topology.relationship(64501, 3356)).toBe('provider');
    }
  });

  it.each([
    ['not JSON', '{ links: [', { where: '$', rule: 'format' }],
    ['not an object', [1, 2], { where: '$', rule: 'format' }],
    ['links missing', {}, { where: 'links', rule: 'format' }],
    ['ases not an array', { ases: 3, links: [] }, { where: 'ases', rule: 'format' }],
    ['unknown relation', { links: [link(1, 2), link(2, 3, 'sibling')] }, { where: 'links[1].relation', rule: 'relation' }],
    ['self-link', { links: [link(5, 5, 'peer')] }, { where: 'links[0]', rule: 'self-link' }],
    ['ASN out of range', { links: [link(1, 4294967296)] }, { where: 'links[0].b', rule: 'asn-range' }],
    ['fractional ASN', { links: [link(1.5, 2)] }, { where: 'links[0].a', rule: 'asn-range' }],
    ['link not an object', { links: ['1|2|-1'] }, { where: 'links[0]', rule: 'format' }],
    ['AS without asn', { ases: [{ latitude: 1, longitude: 2 }], links: [] }, { where: 'ases[0].asn', rule: 'asn-range' }],
    ['latitude out of range', { ases: [{ asn: 1, latitude: 91, longitude: 0 }], links: [] }, { where: 'ases[0].latitude', rule: 'location' }],
    ['latitude without longitude', { ases: [{ asn: 1, latitude: 10 }], links: [] }, { where: 'ases[0]', rule: 'location' }],
    ['bad country code', { ases: [{ asn: 1, countryCode: 'USA' }], links: [] }, { where: 'ases[0].countryCode', rule: 'format' }],
    ['duplicate AS', { ases: [{ asn: 1 }, { asn: 1 }], links: [] }, { where: 'ases[1]', rule: 'duplicate-as' }],
  ])('rejects %s', (_name, input, problem) => {
    expect(problemsOf(input)).toEqual([expect.objectContaining(problem)]);
  });

  it('rejects a conflicting duplicate link, naming both entries', () => {
    const problems = problemsOf({ links: [link(1, 2), link(3, 4, 'peer'), link(2, 1)] });
    expect(problems).toEqual([expect.objectContaining({ where: 'links[2]', rule: 'conflict' })]);
    expect(problems[0].message).toContain('links[0]');
  });

  it('rejects a provider-customer cycle, naming a link and an AS on it', () => {
    const problems = problemsOf({ links: [link(1, 2), link(2, 3), link(3, 1), link(1, 9, 'peer')] });
    expect(problems).toEqual([expect.objectContaining({ rule: 'cycle' })]);
    expect(problems[0].where).toMatch(/^links\[[012]\]$/);
    expect(problems[0].message).toMatch(/through AS [123]:/);
  });

  it('stops at the size limits', () => {
    expect(problemsOf({ links: [link(1, 2), link(1, 3)] }, { maxLinks: 1 })).toEqual([expect.objectContaining({ where: 'links[1]', rule: 'limit' })]);
    expect(problemsOf({ ases: [{ asn: 1 }, { asn: 2 }], links: [] }, { maxAses: 1 })).toEqual([
      expect.objectContaining({ where: 'ases[1]', rule: 'limit' }),
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ ases: [{ asn: 0 }], links: [link(1, 1), link(2, 3, 'x')] });
    expect(problems.map((p) => p.where)).toEqual(['ases[0].asn', 'links[0]', 'links[1].relation']);
  });
});
