import { greatCircleDistanceKm } from '../geo-distance';
import { parseCaidaAsRel } from './parse-caida';
import { parseTopologyJson } from './parse-json';
import { diffResults, simulate, whatIfWithdraw } from './simulate';
import { SiteError, type Site } from './site';

const FRANKFURT = { latitude: 50.1, longitude: 8.7 };
const ASHBURN = { latitude: 39.0, longitude: -77.5 };
const PARIS = { latitude: 48.9, longitude: 2.35 };

const site = (region: string, originAsn: number, upstreams: number[], where = FRANKFURT, extra: Partial<Site> = {}): Site => ({
  region,
  originAsn,
  upstreams,
  prepend: 0,
  ...where,
  ...extra,
});

describe('simulate', () => {
  describe('convergence', () => {
    it('counts waves and delivered announcements (including ones loop prevention drops)', () => {
      // 10 <- site; 1 provider of 10; 1 peers 2; 2 peers 3; 2 provider of 20; 21 provider of 20; 20 peers 30; 3 provider of 33.
      const topology = parseCaidaAsRel(['1|2|0', '2|3|0', '1|10|-1', '2|20|-1', '21|20|-1', '20|30|0', '3|33|-1'].join('\n'));
      const result = simulate(topology, [site('eu', 64500, [10])]);
      // Up: site->10, 10->1 (2 waves, 2 updates). Across: 1->2 (1 wave, 1 update).
      // Down: 1->10 (dropped: the path contains 10) and 2->20 (1 wave, 2 updates).
      expect(result.convergence).toEqual({ rounds: 4, updates: 5 });
    });

    it('counts nothing when nothing is announced', () => {
      const topology = parseCaidaAsRel('1|2|-1');
      const result = simulate(topology, [site('eu', 64500, [2])], { withdrawn: new Set(['eu']) });
      expect(result.convergence).toEqual({ rounds: 0, updates: 0 });
      expect(result.unreachable).toBe(2);
      expect(result.efficiency).toEqual({ locatedAses: 0, nonNearestShare: 0, meanExtraKm: 0 });
    });
  });

  describe('catchments, efficiency and agreement with geo DNS', () => {
    // eu (Frankfurt) via AS 10, us (Ashburn) via AS 20. AS 30 (Paris) buys from both and lands
    // in eu by neighbour ASN; AS 40 (Paris) buys from 20 only and lands in us, 5,800 km too far.
    const doc = {
      ases: [
        { asn: 20, ...ASHBURN },
        { asn: 30, ...PARIS },
        { asn: 40, ...PARIS },
      ],
      links: [
        { a: 10, b: 30, relation: 'provider-customer' },
        { a: 20, b: 30, relation: 'provider-customer' },
        { a: 20, b: 40, relation: 'provider-customer' },
        { a: 50, b: 60, relation: 'provider-customer' },
      ],
    };
    const topology = parseTopologyJson(doc);
    const sites = [site('eu', 64500, [10], FRANKFURT), site('us', 64500, [20], ASHBURN)];
    const result = simulate(topology, sites);
    const extraFor40 = greatCircleDistanceKm(PARIS.latitude, PARIS.longitude, ASHBURN.latitude, ASHBURN.longitude)
      - greatCircleDistanceKm(PARIS.latitude, PARIS.longitude, FRANKFURT.latitude, FRANKFURT.longitude);

    it('reports catchments as a share of the ASes that reach a site', () => {
      expect(result.catchments).toEqual({ eu: { ases: 2, share: 0.5 }, us: { ases: 2, share: 0.5 } });
      expect(result.reached).toBe(4);
      expect(result.unreachable).toBe(2);
      expect(result.unreachableAsns).toEqual([50, 60]);
    });

    it('measures how many located ASes miss their nearest site and by how far', () => {
      expect(result.efficiency.locatedAses).toBe(3);
      expect(result.efficiency.nonNearestShare).toBeCloseTo(1 / 3, 12);
      expect(result.efficiency.meanExtraKm).toBeCloseTo(extraFor40 / 3, 6);
      expect(extraFor40).toBeGreaterThan(5000);
      expect(result.extraKmAt(topology.indexOf(40))).toBeCloseTo(extraFor40, 6);
      expect(result.extraKmAt(topology.indexOf(30))).toBe(0);
      expect(Number.isNaN(result.extraKmAt(topology.indexOf(10)))).toBe(true);
      expect(sites.map((s) => s.region)[result.nearestSite[topology.indexOf(40)]]).toBe('eu');
    });

    it('measures only against announced sites', () => {
      const withoutEu = simulate(topology, sites, { withdrawn: new Set(['eu']) });
      expect(withoutEu.efficiency).toEqual({ locatedAses: 3, nonNearestShare: 0, meanExtraKm: 0 });
      expect(withoutEu.catchments.eu).toEqual({ ases: 0, share: 0 });
    });

    it('compares with a proximity policy: nearest by default, or a given function', () => {
      expect(result.geoDnsAgreement()).toEqual({ locatedAses: 3, agreeing: 2, share: 2 / 3 });
      const seen: string[][] = [];
      const alwaysEu = result.geoDnsAgreement((as, regions) => {
        seen.push([...regions]);
        expect(as.latitude).toBeDefined();
        return 'eu';
      });
      expect(alwaysEu).toEqual({ locatedAses: 3, agreeing: 1, share: 1 / 3 });
      expect(seen).toEqual([
        ['eu', 'us'],
        ['eu', 'us'],
        ['eu', 'us'],
      ]);
      expect(result.geoDnsAgreement(() => null).agreeing).toBe(0);
    });

    it('summarises for the API without per-AS data', () => {
      expect(result.summary()).toEqual({
        sites: [
          { region: 'eu', originAsn: 64500, announced: true },
          { region: 'us', originAsn: 64500, announced: true },
        ],
        ases: 6,
        reached: 4,
        unreachable: 2,
        unreachableAsns: [50, 60],
        originAsns: [],
        catchments: result.catchments,
        convergence: result.convergence,
        efficiency: result.efficiency,
      });
      expect(JSON.parse(JSON.stringify(result.summary()))).toEqual(result.summary());
    });
  });

  describe('routeFor', () => {
    const topology = parseCaidaAsRel(['1|10|-1', '10|64500|-1', '2|3|-1'].join('\n'));
    const result = simulate(topology, [site('eu', 64500, [10], FRANKFURT, { med: 7 })]);

    it('gives the full route of a routed AS', () => {
      expect(result.routeFor(10)).toEqual({
        asn: 10,
        status: 'routed',
        region: 'eu',
        site: 0,
        reason: 'only-route',
        learnedFrom: 'customer',
        route: { prefixOwner: 0, asPath: [64500], origin: 'igp', med: 7, learnedFrom: 'customer', neighborAsn: 64500, localPref: 300 },
      });
      expect(result.routeFor(1)?.route).toEqual({
        prefixOwner: 0,
        asPath: [10, 64500],
        origin: 'igp',
        med: 0,
        learnedFrom: 'customer',
        neighborAsn: 10,
        localPref: 300,
      });
    });

    it('tells unreachable, origin and unknown ASes apart', () => {
      expect(result.routeFor(3)).toEqual({ asn: 3, status: 'unreachable', region: null, site: -1, reason: null, learnedFrom: null, route: null });
      expect(result.routeFor(64500)).toMatchObject({ status: 'origin', learnedFrom: 'origin', region: null });
      expect(result.routeFor(999)).toBeNull();
      expect(result.originAsns).toEqual([64500]);
      expect(result.unreachableAsns).toEqual([2, 3]);
    });

    it('exposes dense per-AS arrays', () => {
      const v = topology.indexOf(1);
      expect(result.siteOf[v]).toBe(0);
      expect(result.pathLength[v]).toBe(2);
      expect(result.asPathAt(v)).toEqual([10, 64500]);
      expect(result.reasonAt(v)).toBe('only-route');
      expect(result.learnedFromAt(v)).toBe('customer');
      expect(result.siteOf[topology.indexOf(3)]).toBe(-1);
      expect(result.asPathAt(topology.indexOf(3))).toEqual([]);
    });
  });

  describe('inputs', () => {
    const topology = parseCaidaAsRel('1|10|-1\n1|20|-1');

    it('rejects invalid sites with one error listing every problem', () => {
      const sites: Site[] = [
        site('eu', 64500, [10, 10]),
        site('eu', 64500, [64500, 99], FRANKFURT, { prepend: 11 }),
        { ...site('us', 0, [], { latitude: 95, longitude: 0 }), med: -1, origin: 'bgp' as never },
      ];
      try {
        simulate(topology, sites);
        throw new Error('expected a SiteError');
      } catch (error) {
        expect(error).toBeInstanceOf(SiteError);
        expect((error as SiteError).problems.map((p) => `${p.where} ${p.rule}`)).toEqual([
          'sites[0].upstreams[1] duplicate',
          'sites[1].region duplicate',
          'sites[1].upstreams[0] not-origin',
          'sites[1].upstreams[1] unknown-upstream',
          'sites[1].prepend range',
          'sites[2].originAsn asn-range',
          'sites[2].upstreams format',
          'sites[2].latitude location',
          'sites[2].origin format',
          'sites[2].med range',
        ]);
      }
    });

    it('ignores withdrawn names that are no site', () => {
      const result = simulate(topology, [site('eu', 64500, [10])], { withdrawn: new Set(['nowhere']) });
      expect(result.catchments.eu.ases).toBe(3);
      expect(result.announced).toEqual([true]);
    });

    it('keeps its own copy of the sites', () => {
      const sites = [site('eu', 64500, [10])];
      const result = simulate(topology, sites);
      (sites[0].upstreams as number[]).push(20);
      expect(result.sites[0].upstreams).toEqual([10]);
      expect(Object.isFrozen(result) && Object.isFrozen(result.sites[0])).toBe(true);
    });

    it('caps the unreachable list, not the count', () => {
      const wide = parseCaidaAsRel(Array.from({ length: 20 }, (_, i) => `1|${100 + i}|-1`).join('\n'));
      const result = simulate(wide, [site('eu', 64500, [100])], { withdrawn: new Set(['eu']), unreachableListLimit: 5 });
      expect(result.unreachable).toBe(21);
      expect(result.unreachableAsns).toEqual([1, 100, 101, 102, 103]);
      expect(() => simulate(wide, [site('eu', 64500, [100])], { unreachableListLimit: -1 })).toThrow(RangeError);
    });

    it('does not depend on the order of the input', () => {
      const links = ['1|10|-1', '1|20|-1', '10|30|-1', '20|30|-1', '10|20|0', '30|40|0'];
      const forward = simulate(parseCaidaAsRel(links.join('\n')), [site('a', 64500, [10]), site('b', 64501, [20])]);
      const backward = simulate(parseCaidaAsRel([...links].reverse().join('\n')), [site('a', 64500, [10]), site('b', 64501, [20])]);
      expect([...backward.siteOf]).toEqual([...forward.siteOf]);
      expect([...backward.reasonCode]).toEqual([...forward.reasonCode]);
      expect(backward.convergence).toEqual(forward.convergence);
    });
  });

  describe('what-if withdrawal', () => {
    const topology = parseCaidaAsRel(['1|10|-1', '1|20|-1', '10|11|-1', '20|21|-1', '10|12|-1', '20|12|-1'].join('\n'));
    const sites = [site('eu', 64500, [10]), site('us', 64500, [20], ASHBURN)];

    it('re-runs with one more region withdrawn and reports the ASes that moved', () => {
      const base = simulate(topology, sites);
      const { result, diff } = whatIfWithdraw(base, 'eu');
      expect([...result.withdrawn]).toEqual(['eu']);
      expect(result.catchments).toEqual({ eu: { ases: 0, share: 0 }, us: { ases: 6, share: 1 } });
      expect(diff).toEqual({ moved: 4, flows: [{ from: 'eu', to: 'us', ases: 4 }] });
      const none = whatIfWithdraw(result, 'us');
      expect(none.diff).toEqual({ moved: 6, flows: [{ from: 'us', to: null, ases: 6 }] });
      expect(base.withdrawn.size).toBe(0);
    });

    it('refuses to diff results over different topologies', () => {
      const other = simulate(parseCaidaAsRel('1|10|-1'), [site('eu', 64500, [10])]);
      expect(() => diffResults(simulate(topology, sites), other)).toThrow(/same topology/);
    });
  });
});
