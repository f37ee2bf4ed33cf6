import { LOCAL_PREF, mayExport, originRoute, pathContains, receiveRoute, routeFromSite } from './route';

describe('routes', () => {
  const site = { originAsn: 64500, prepend: 2, med: 30, origin: 'egp' as const };

  it('an upstream hears a site as a customer, with the origin ASN 1 + prepend times', () => {
    const r = routeFromSite(3, site);
    expect(r).toEqual({
      prefixOwner: 3,
      asPath: [64500, 64500, 64500],
      origin: 'egp',
      med: 30,
      learnedFrom: 'customer',
      neighborAsn: 64500,
      localPref: LOCAL_PREF.customer,
    });
    expect(Object.isFrozen(r) && Object.isFrozen(r.asPath)).toBe(true);
  });

  it('a site originates IGP with MED 0 unless configured', () => {
    expect(routeFromSite(0, { originAsn: 64500, prepend: 0 })).toMatchObject({ asPath: [64500], origin: 'igp', med: 0 });
    expect(originRoute(0, { originAsn: 64500, prepend: 0 })).toMatchObject({ asPath: [], learnedFrom: 'origin', origin: 'igp' });
  });

  it('re-announcing prepends the sender, keeps ORIGIN, resets MED and sets LOCAL_PREF from the relationship', () => {
    const upstream = routeFromSite(1, site);
    const atPeer = receiveRoute(upstream, 10, 'peer');
    expect(atPeer).toEqual({
      prefixOwner: 1,
      asPath: [10, 64500, 64500, 64500],
      origin: 'egp',
      med: 0,
      learnedFrom: 'peer',
      neighborAsn: 10,
      localPref: 200,
    });
    expect(upstream.asPath).toEqual([64500, 64500, 64500]);
    expect(receiveRoute(atPeer, 20, 'provider').localPref).toBe(100);
  });

  it.each([
    ['customer', 'customer', true],
    ['customer', 'peer', true],
    ['customer', 'provider', true],
    ['origin', 'provider', true],
    ['peer', 'customer', true],
    ['peer', 'peer', false],
    ['peer', 'provider', false],
    ['provider', 'customer', true],
    ['provider', 'peer', false],
    ['provider', 'provider', false],
  ] as const)('valley-free export: a route learned from a %s goes to a %s: %s', (learnedFrom, receiverIs, allowed) => {
    const base = routeFromSite(0, { originAsn: 64500, prepend: 0 });
    const held = learnedFrom === 'origin' ? originRoute(0, { originAsn: 64500, prepend: 0 }) : receiveRoute(base, 7, learnedFrom);
    expect(mayExport(held, receiverIs)).toBe(allowed);
  });

  it('loop prevention looks for the receiver anywhere on the path', () => {
    const r = receiveRoute(routeFromSite(0, { originAsn: 64500, prepend: 0 }), 10, 'customer');
    expect(pathContains(r, 10)).toBe(true);
    expect(pathContains(r, 64500)).toBe(true);
    expect(pathContains(r, 11)).toBe(false);
  });
});
