import fc from 'fast-check';
import { parseCaidaAsRel } from './parse-caida';
import { parseTopologyJson } from './parse-json';

describe('Topology', () => {
  const text = ['30|10|-1', '30|20|-1', '20|10|-1', '30|40|0', '40|50|-1', '30|60|0', '40|60|0', '70|80|-1'].join('\n');
  const topology = parseCaidaAsRel(text);

  it('indexes ASes densely in ascending ASN order', () => {
    expect([...topology.asns]).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(topology.indexOf(40)).toBe(3);
    expect(topology.indexOf(41)).toBe(-1);
    expect(topology.has(80)).toBe(true);
  });

  it('stores providers, customers and peers per AS as sorted index lists', () => {
    const at = (asn: number) => topology.indexOf(asn);
    const asnsOf = (list: Int32Array) => [...list].map((i) => topology.asns[i]);
    expect(asnsOf(topology.providersOf(at(10)))).toEqual([20, 30]);
    expect(asnsOf(topology.customersOf(at(30)))).toEqual([10, 20]);
    expect(asnsOf(topology.peersOf(at(30)))).toEqual([40, 60]);
    expect(asnsOf(topology.peersOf(at(60)))).toEqual([30, 40]);
    expect(topology.providers).toBeInstanceOf(Int32Array);
  });

  it('summarises links and infers the tier-1 clique among provider-free ASes', () => {
    // 30 and 40 are provider-free and peer; 70 is provider-free but does not peer with them;
    // 60 has no provider and no customer (a peer-only AS) so it is no tier-1 candidate.
    expect(topology.summary).toEqual({ ases: 8, links: 8, providerCustomerLinks: 5, peerLinks: 3, tier1: [30, 40] });
  });

  it('is frozen', () => {
    expect(Object.isFrozen(topology)).toBe(true);
    expect(Object.isFrozen(topology.summary.tier1)).toBe(true);
  });

  it('orders every AS after all of its customers', () => {
    const randomDag = fc
      .array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.boolean()), { maxLength: 80 })
      .map((edges) => {
        const seen = new Set<string>();
        const links = [];
        for (const [x, y, peer] of edges) {
          if (x === y) continue;
          const key = `${Math.min(x, y)}-${Math.max(x, y)}`;
          if (seen.has(key)) continue;
          seen.add(key);
          // The larger ASN is the provider: no cycles.
          links.push({ a: Math.max(x, y), b: Math.min(x, y), relation: peer ? 'peer' : 'provider-customer' });
        }
        return { links };
      });
    fc.assert(
      fc.property(randomDag, (doc) => {
        const t = parseTopologyJson(doc);
        const position = new Int32Array(t.size);
        t.upwardOrder.forEach((v, k) => (position[v] = k));
        expect(new Set(t.upwardOrder).size).toBe(t.size);
        for (let v = 0; v < t.size; v++) {
          for (const c of t.customersOf(v)) expect(position[c]).toBeLessThan(position[v]);
        }
      }),
    );
  });

  it('finds a maximal clique greedily by transit degree', () => {
    // 1, 2, 3 peer pairwise; 4 peers with 1 and 2 only and has the most customers, so it goes
    // first and the clique becomes {4, 1, 2}: maximal, not maximum - the documented heuristic.
    const links = [
      ...[100, 101, 102, 103].map((c) => ({ a: 4, b: c, relation: 'provider-customer' })),
      ...[1, 2, 3].map((p) => ({ a: p, b: 200 + p, relation: 'provider-customer' })),
      { a: 1, b: 2, relation: 'peer' },
      { a: 1, b: 3, relation: 'peer' },
      { a: 2, b: 3, relation: 'peer' },
      { a: 4, b: 1, relation: 'peer' },
      { a: 4, b: 2, relation: 'peer' },
    ];
    expect(parseTopologyJson({ links }).summary.tier1).toEqual([1, 2, 4]);
  });
});
