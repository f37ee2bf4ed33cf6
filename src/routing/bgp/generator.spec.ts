/** The benchmark's topology generator: deterministic, valid, and shaped as documented. */
import { generateTopology, placeSites, Prng, SITE_CITIES, SITE_ORIGIN_ASN, STUB, TIER2, TIER3, toCaidaText } from '../../../bench/topology-generator';
import { parseCaidaAsRel } from './parse-caida';
import { parseTopologyJson } from './parse-json';
import { simulate } from './simulate';

describe('bench topology generator', () => {
  const dense = generateTopology({ seed: 7, ases: 3000, peeringDensity: 'dense' });
  const topology = parseTopologyJson(dense.json);

  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateTopology({ seed: 7, ases: 3000, peeringDensity: 'dense' });
    expect(again.json).toEqual(dense.json);
    const other = generateTopology({ seed: 8, ases: 3000, peeringDensity: 'dense' });
    expect(other.json.links).not.toEqual(dense.json.links);
    const a = new Prng(1);
    const b = new Prng(1);
    expect([a.next(), a.next(), a.int(10)]).toEqual([b.next(), b.next(), b.int(10)]);
  });

  it('builds a valid, acyclic topology with a 15-AS tier-1 clique, located ASes and the same CAIDA form', () => {
    expect(topology.summary.ases).toBe(3000);
    expect(topology.summary.tier1).toHaveLength(15);
    expect(topology.summary.providerCustomerLinks).toBe(dense.stats.providerCustomerLinks);
    expect(topology.summary.peerLinks).toBe(dense.stats.peerLinks);
    for (let v = 0; v < topology.size; v++) expect(topology.isLocated(v)).toBe(true);
    const fromText = parseCaidaAsRel(toCaidaText(dense));
    expect(fromText.summary).toEqual(topology.summary);
  });

  it('gives every stub one to three providers and no customers', () => {
    const counts = [0, 0, 0, 0];
    dense.tiers.forEach((tier, i) => {
      if (tier !== STUB) return;
      const v = topology.indexOf(dense.asns[i]);
      expect(topology.customersOf(v)).toHaveLength(0);
      counts[topology.providersOf(v).length]++;
    });
    expect(counts[0]).toBe(0);
    expect(counts[1] + counts[2] + counts[3]).toBe(dense.stats.stubs);
    expect(counts[2] + counts[3]).toBeGreaterThan(counts[1]);
  });

  it('peers far more densely with peeringDensity dense', () => {
    const sparse = generateTopology({ seed: 7, ases: 3000, peeringDensity: 'sparse' });
    expect(dense.stats.peerLinks).toBeGreaterThan(5 * sparse.stats.peerLinks);
    expect(sparse.stats.providerCustomerLinks).toBe(dense.stats.providerCustomerLinks);
  });

  it('places 20 sites on transit ASes, one upstream when sparse and eight when dense', () => {
    const transit = new Set<number>();
    dense.tiers.forEach((tier, i) => (tier === TIER2 || tier === TIER3) && transit.add(dense.asns[i]));
    const sparseSites = placeSites(dense, { placement: 'sparse' });
    const denseSites = placeSites(dense, { placement: 'dense', sharedOrigin: false });
    expect(sparseSites).toHaveLength(SITE_CITIES.length);
    expect(sparseSites.every((s) => s.upstreams.length === 1 && s.originAsn === SITE_ORIGIN_ASN)).toBe(true);
    expect(denseSites.every((s, i) => s.upstreams.length === 8 && s.originAsn === SITE_ORIGIN_ASN + i)).toBe(true);
    expect(denseSites.flatMap((s) => s.upstreams).every((asn) => transit.has(asn))).toBe(true);
    const result = simulate(topology, denseSites);
    expect(result.unreachable).toBe(0);
    expect(Object.values(result.catchments).filter((c) => c.ases > 0).length).toBeGreaterThan(10);
  });
});
