import fc from 'fast-check';
import {
  DECISION_PROCESS,
  DECISION_REASONS,
  compareRoutes,
  highestLocalPref,
  lowestMedSameNeighbor,
  lowestNeighborAsn,
  lowestOrigin,
  lowestSiteIndex,
  selectBest,
  shortestAsPath,
} from './decision';
import { LOCAL_PREF, type LearnedFrom, type OriginAttribute, type Route } from './route';

function route(overrides: Partial<Route> & { learnedFrom?: LearnedFrom } = {}): Route {
  const learnedFrom = overrides.learnedFrom ?? 'customer';
  const asPath = overrides.asPath ?? [100, 64500];
  return Object.freeze({
    prefixOwner: 0,
    origin: 'igp' as OriginAttribute,
    med: 0,
    neighborAsn: asPath[0] ?? 0,
    localPref: LOCAL_PREF[learnedFrom],
    ...overrides,
    asPath,
    learnedFrom,
  });
}

describe('the decision process', () => {
  it('is this ordered list of comparators', () => {
    expect(DECISION_PROCESS.map((c) => c.name)).toEqual(['local-pref', 'as-path-length', 'origin', 'med', 'neighbor-asn', 'site-order']);
    expect(DECISION_REASONS).toEqual(['only-route', ...DECISION_PROCESS.map((c) => c.name)]);
  });

  it('ranks relationships customer 300 > peer 200 > provider 100', () => {
    expect([LOCAL_PREF.customer, LOCAL_PREF.peer, LOCAL_PREF.provider]).toEqual([300, 200, 100]);
  });

  describe('one comparator at a time', () => {
    it('local-pref: the customer route beats a shorter peer route; peer beats provider', () => {
      const customer = route({ learnedFrom: 'customer', asPath: [1, 2, 3, 64500] });
      const peer = route({ learnedFrom: 'peer', asPath: [4, 64500] });
      const provider = route({ learnedFrom: 'provider', asPath: [5, 64500] });
      expect(highestLocalPref.compare(customer, peer)).toBe(customer);
      expect(highestLocalPref.compare(provider, peer)).toBe(peer);
      expect(highestLocalPref.compare(peer, route({ learnedFrom: 'peer', asPath: [9, 9, 64500] }))).toBeNull();
    });

    it('as-path-length: the shorter path wins, prepends count', () => {
      const short = route({ asPath: [7, 64500] });
      const prepended = route({ asPath: [3, 64500, 64500] });
      expect(shortestAsPath.compare(prepended, short)).toBe(short);
      expect(shortestAsPath.compare(short, route({ asPath: [8, 64501] }))).toBeNull();
    });

    it('origin: igp < egp < incomplete', () => {
      const igp = route({ origin: 'igp' });
      const egp = route({ origin: 'egp' });
      const incomplete = route({ origin: 'incomplete' });
      expect(lowestOrigin.compare(egp, igp)).toBe(igp);
      expect(lowestOrigin.compare(incomplete, egp)).toBe(egp);
      expect(lowestOrigin.compare(igp, route({ origin: 'igp', asPath: [9, 64501] }))).toBeNull();
    });

    it('med: the lower MED wins between routes of the same neighbour AS, and is ignored across neighbours', () => {
      const low = route({ asPath: [64500], med: 10, prefixOwner: 1 });
      const high = route({ asPath: [64500], med: 50, prefixOwner: 0 });
      const otherNeighbor = route({ asPath: [64501], med: 0 });
      expect(lowestMedSameNeighbor.compare(high, low)).toBe(low);
      expect(lowestMedSameNeighbor.compare(low, otherNeighbor)).toBeNull();
      expect(lowestMedSameNeighbor.compare(low, route({ asPath: [64500], med: 10 }))).toBeNull();
    });

    it('neighbor-asn: the lower neighbour ASN wins', () => {
      const via3 = route({ asPath: [3, 64500] });
      const via4 = route({ asPath: [4, 64501] });
      expect(lowestNeighborAsn.compare(via4, via3)).toBe(via3);
      expect(lowestNeighborAsn.compare(via3, route({ asPath: [3, 64501] }))).toBeNull();
    });

    it('site-order: the lower site index wins (router-ID stand-in)', () => {
      const first = route({ asPath: [64500], prefixOwner: 0 });
      const second = route({ asPath: [64500], prefixOwner: 1 });
      expect(lowestSiteIndex.compare(second, first)).toBe(first);
      expect(lowestSiteIndex.compare(first, route({ asPath: [64501], prefixOwner: 0 }))).toBeNull();
    });
  });

  describe('compareRoutes', () => {
    it('names the first comparator that separates two routes', () => {
      const a = route({ asPath: [3, 64500] });
      const b = route({ asPath: [3, 64500], origin: 'egp' });
      expect(compareRoutes(a, b)).toEqual({ winner: a, decidedBy: 'origin' });
      expect(compareRoutes(b, a)).toEqual({ winner: a, decidedBy: 'origin' });
    });

    it('reports a tie for routes no comparator separates', () => {
      expect(compareRoutes(route(), route())).toEqual({ winner: null, decidedBy: null });
    });
  });

  describe('selectBest', () => {
    it('returns null without candidates and only-route for one', () => {
      const only = route();
      expect(selectBest([])).toBeNull();
      expect(selectBest([only])).toEqual({ route: only, reason: 'only-route' });
    });

    it('gives the step after which one candidate is left', () => {
      const customerLong = route({ learnedFrom: 'customer', asPath: [1, 2, 64500] });
      const customerShort = route({ learnedFrom: 'customer', asPath: [3, 64500] });
      const peer = route({ learnedFrom: 'peer', asPath: [4, 64500] });
      // local-pref drops the peer, two customer routes are left, path length decides.
      expect(selectBest([peer, customerLong, customerShort])).toEqual({ route: customerShort, reason: 'as-path-length' });
      expect(selectBest([peer, customerLong])).toEqual({ route: customerLong, reason: 'local-pref' });
    });

    it('MED drops a same-neighbour rival; the neighbour ASN then decides between neighbours', () => {
      const fra = route({ asPath: [64500], med: 50, prefixOwner: 0 });
      const ams = route({ asPath: [64500], med: 10, prefixOwner: 1 });
      const lon = route({ asPath: [64501], med: 0, prefixOwner: 2 });
      expect(selectBest([fra, ams])).toEqual({ route: ams, reason: 'med' });
      expect(selectBest([lon, fra, ams])).toEqual({ route: ams, reason: 'neighbor-asn' });
    });

    const arbitraryRoute = fc
      .record({
        learnedFrom: fc.constantFrom<LearnedFrom>('customer', 'peer', 'provider'),
        length: fc.integer({ min: 1, max: 4 }),
        origin: fc.constantFrom<OriginAttribute>('igp', 'egp', 'incomplete'),
        med: fc.integer({ min: 0, max: 3 }),
        neighborAsn: fc.integer({ min: 1, max: 4 }),
        prefixOwner: fc.integer({ min: 0, max: 3 }),
      })
      .map((r) => route({ ...r, asPath: [r.neighborAsn, ...new Array<number>(r.length - 1).fill(64500)] }));
    const distinctSessions = fc.uniqueArray(arbitraryRoute, {
      minLength: 1,
      maxLength: 8,
      selector: (r) => `${r.neighborAsn}/${r.prefixOwner}`,
    });

    it('does not depend on the order of the candidates', () => {
      fc.assert(
        fc.property(distinctSessions, fc.infiniteStream(fc.nat()), (candidates, seeds) => {
          const shuffled = candidates
            .map((r) => ({ r, k: seeds.next().value as number }))
            .sort((x, y) => x.k - y.k)
            .map((x) => x.r);
          expect(selectBest(shuffled)).toEqual(selectBest(candidates));
        }),
      );
    });

    it('picks a route that compareRoutes prefers to every other, with the latest deciding step as reason', () => {
      fc.assert(
        fc.property(distinctSessions, (candidates) => {
          const best = selectBest(candidates);
          expect(best).not.toBeNull();
          const steps = DECISION_REASONS;
          let latest = 0;
          for (const other of candidates) {
            if (other === best!.route) continue;
            const decision = compareRoutes(best!.route, other);
            expect(decision.winner).toBe(best!.route);
            latest = Math.max(latest, steps.indexOf(decision.decidedBy!));
          }
          expect(best!.reason).toBe(steps[latest]);
        }),
      );
    });
  });
});
