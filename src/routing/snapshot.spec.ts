import { decide } from './engine';
import { ALL_REGIONS, CLIENTS, REGIONS, ZONE, query, snapshotOf } from './fixtures';
import { ImmutableMap } from './immutable-map';
import { SnapshotValidationError, buildSnapshot, emptySnapshot, type SnapshotInput } from './snapshot';

function problemsOf(input: SnapshotInput): readonly string[] {
  try {
    buildSnapshot(input, 1);
  } catch (err) {
    if (err instanceof SnapshotValidationError) return err.problems;
    throw err;
  }
  return [];
}

const minimal = (overrides: Partial<SnapshotInput> = {}): SnapshotInput => ({
  zones: [ZONE],
  regions: [REGIONS.euWest1, REGIONS.usEast1],
  services: [{ fqdn: 'app.example.com', policy: 'failover', regions: ['eu-west-1'] }],
  ...overrides,
});

describe('buildSnapshot', () => {
  it('builds a snapshot with its version, build time and tables', () => {
    const snapshot = buildSnapshot(minimal(), 42, new Date('2025-03-04T05:06:07Z'));
    expect(snapshot.version).toBe(42);
    expect(snapshot.builtAt).toBe('2025-03-04T05:06:07.000Z');
    expect([...snapshot.zones.keys()]).toEqual(['example.com']);
    expect([...snapshot.regions.keys()]).toEqual(['eu-west-1', 'us-east-1']);
    expect([...snapshot.services.keys()]).toEqual(['app.example.com']);
  });

  it('fills the API defaults', () => {
    const snapshot = buildSnapshot(
      minimal({ regions: [{ name: 'eu-west-1', countryCode: 'IE', latitude: 53.35, longitude: -6.26 }] }),
      1,
    );
    expect(snapshot.regions.get('eu-west-1')).toEqual({
      name: 'eu-west-1',
      countryCode: 'IE',
      jurisdiction: 'EU',
      latitude: 53.35,
      longitude: -6.26,
      ipv4: [],
      ipv6: [],
      baseUrl: null,
      weight: 100,
      drained: false,
      health: 'unknown',
      healthReason: null,
    });
    expect(snapshot.services.get('app.example.com')).toEqual({
      fqdn: 'app.example.com',
      zone: 'example.com',
      policy: 'failover',
      regions: ['eu-west-1'],
      geolocation: null,
      ttl: 30,
      residency: 'gdpr',
      unknownLocation: 'route',
      whenAllUnhealthy: 'fail-open',
      answerCount: 1,
    });
    expect(snapshot.zones.get('example.com')?.records).toEqual([]);
  });

  it('lower-cases names, drops trailing dots and normalises keys and addresses', () => {
    const snapshot = buildSnapshot(
      {
        zones: [
          {
            ...ZONE,
            name: 'Example.COM.',
            hostmaster: 'Hostmaster.Example.com.',
            nameservers: ['NS1.example.com.'],
            records: [
              { id: 'r1', name: 'WWW', type: 'A', ttl: 60, values: ['192.0.2.1'] },
              { id: 'r2', name: '@', type: 'TXT', ttl: 60, values: ['v=spf1 -all'] },
              { id: 'r3', name: 'Mail.Example.com', type: 'MX', ttl: 60, values: ['10 mx.example.com'] },
              { id: 'r4', name: 'api.example.com.', type: 'CNAME', ttl: 60, values: ['app.example.com'] },
            ],
          },
        ],
        regions: [{ ...REGIONS.euWest1, name: 'EU-West-1', countryCode: 'ie', ipv6: ['2001:DB8:E:0:0:0:0:10', '2001:db8:e::10'] }],
        services: [
          {
            fqdn: 'App.Example.COM.',
            zone: 'EXAMPLE.com',
            policy: 'geolocation',
            regions: ['Eu-West-1'],
            geolocation: { de: ['EU-WEST-1'], 'Continent:eu': ['eu-west-1'], '*': ['eu-west-1'] },
          },
        ],
      },
      1,
    );
    const zone = snapshot.zones.get('example.com');
    expect(zone?.hostmaster).toBe('hostmaster.example.com');
    expect(zone?.nameservers).toEqual(['ns1.example.com']);
    expect(zone?.records.map((r) => r.name)).toEqual(['www.example.com', 'example.com', 'mail.example.com', 'api.example.com']);
    const region = snapshot.regions.get('eu-west-1');
    expect(region?.countryCode).toBe('IE');
    expect(region?.ipv6).toEqual(['2001:db8:e::10']);
    const service = snapshot.services.get('app.example.com');
    expect(service?.zone).toBe('example.com');
    expect(service?.regions).toEqual(['eu-west-1']);
    expect(service?.geolocation).toEqual({ DE: ['eu-west-1'], 'continent:EU': ['eu-west-1'], '*': ['eu-west-1'] });
  });

  it.each([
    ['IE', 'EU'],
    ['NO', 'EU'],
    ['LI', 'EU'],
    ['GB', 'GB'],
    ['CH', 'CH'],
    ['US', 'US'],
  ])('derives the jurisdiction of a region in %s: %s', (countryCode, jurisdiction) => {
    const snapshot = buildSnapshot(minimal({ regions: [{ ...REGIONS.euWest1, countryCode }] }), 1);
    expect(snapshot.regions.get('eu-west-1')?.jurisdiction).toBe(jurisdiction);
  });

  it('accepts a given jurisdiction that agrees with the country', () => {
    expect(problemsOf(minimal({ regions: [{ ...REGIONS.euWest1, jurisdiction: 'EU' }] }))).toEqual([]);
  });

  it('finds the zone of a service when none is given: the longest that contains it', () => {
    const snapshot = buildSnapshot(
      minimal({
        zones: [ZONE, { ...ZONE, name: 'eu.example.com' }],
        services: [{ fqdn: 'app.eu.example.com', policy: 'failover', regions: ['eu-west-1'] }],
      }),
      1,
    );
    expect(snapshot.services.get('app.eu.example.com')?.zone).toBe('eu.example.com');
  });

  it('lists every problem in one SnapshotValidationError', () => {
    const input: SnapshotInput = {
      zones: [ZONE, { ...ZONE, name: 'EXAMPLE.com', records: [{ id: 'a1', name: 'app', type: 'A', ttl: 60, values: ['192.0.2.9'] }] }],
      regions: [
        REGIONS.euWest1,
        { ...REGIONS.euWest1, name: 'EU-WEST-1' },
        { ...REGIONS.usEast1, countryCode: 'USA' },
        { ...REGIONS.euCentral1, latitude: 91, ipv4: ['192.0.2.256'], ipv6: ['192.0.2.1'] },
        { ...REGIONS.euWest2, jurisdiction: 'EU', weight: 1001, baseUrl: 'ftp://x' },
      ],
      services: [
        { fqdn: 'app.example.com', policy: 'failover', regions: ['eu-west-1', 'eu-west-9'], answerCount: 0, ttl: 0 },
        { fqdn: 'App.example.com', policy: 'failover', regions: ['eu-west-1'] },
        { fqdn: 'b.example.com', policy: 'geolocation', regions: ['eu-west-1'], geolocation: { DE: ['us-east-1'], 'continent:XX': ['eu-west-1'], FR: [] }, answerCount: 9, ttl: 86401 },
        { fqdn: 'c.example.net', policy: 'failover', regions: [] },
        { fqdn: 'd.example.com', zone: 'example.org', policy: 'failover', regions: ['eu-west-1', 'eu-west-1'] },
        { fqdn: 'e.example.com', policy: 'random' as never, regions: ['eu-west-1'], residency: 'maybe' as never },
      ],
    };
    const problems = problemsOf(input);
    expect(problems).toEqual([
      'zone example.com is defined more than once',
      'region eu-west-1 is defined more than once',
      'region us-east-1: countryCode USA must be an ISO 3166-1 alpha-2 code',
      'region eu-central-1: latitude 91 must be from -90 to 90',
      'region eu-central-1: ipv4 address 192.0.2.256 is not a valid IPv4 address',
      'region eu-central-1: ipv6 address 192.0.2.1 is not a valid IPv6 address',
      'region eu-west-2: jurisdiction EU contradicts countryCode GB (jurisdiction GB)',
      'region eu-west-2: weight 1001 must be from 0 to 1000',
      'region eu-west-2: baseUrl ftp://x must be an http or https URL',
      'service app.example.com: ttl 0 must be an integer from 1 to 86400',
      'service app.example.com: answerCount 0 must be an integer from 1 to 8',
      'service app.example.com: region eu-west-9 does not exist',
      'service app.example.com is defined more than once',
      'service b.example.com: ttl 86401 must be an integer from 1 to 86400',
      'service b.example.com: answerCount 9 must be an integer from 1 to 8',
      'service b.example.com: geolocation entry DE names region us-east-1, which is not a region of the service',
      'service b.example.com: geolocation key "continent:XX" must be an ISO country code, continent:XX (XX one of AF AN AS EU NA OC SA) or *',
      'service b.example.com: geolocation entry FR must name at least one region',
      'service c.example.net: no zone contains it',
      'service c.example.net: it must list at least one region',
      'service d.example.com: zone example.org does not exist',
      'service d.example.com: region eu-west-1 is listed more than once',
      'service e.example.com: policy random must be one of proximity, failover, weighted, geolocation, latency',
      'service e.example.com: residency maybe must be one of gdpr, none',
    ]);
    expect(() => buildSnapshot(input, 1)).toThrow(SnapshotValidationError);
    expect(() => buildSnapshot(input, 1)).toThrow(/invalid routing snapshot \(24 problems\):\n- zone example\.com is defined more than once\n- /);
  });

  it('rejects a static A/AAAA/CNAME record on a service name', () => {
    const zone = { ...ZONE, records: [{ id: 'x', name: 'app', type: 'CNAME' as const, ttl: 60, values: ['elsewhere.example.net'] }] };
    expect(problemsOf(minimal({ zones: [zone] }))).toEqual([
      'zone example.com: static CNAME record x at app.example.com clashes with the service of that name',
    ]);
    const txt = { ...ZONE, records: [{ id: 'y', name: 'app', type: 'TXT' as const, ttl: 60, values: ['hello'] }] };
    expect(problemsOf(minimal({ zones: [txt] }))).toEqual([]);
  });

  it('rejects a service outside its zone, a record outside its zone and a bad version', () => {
    const zone = { ...ZONE, records: [{ id: 'z', name: 'www.example.net.', type: 'A' as const, ttl: 60, values: ['192.0.2.1'] }] };
    const input = minimal({ zones: [zone, { ...ZONE, name: 'example.org' }], services: [{ fqdn: 'app.example.com', zone: 'example.org', policy: 'failover', regions: ['eu-west-1'] }] });
    expect(problemsOf(input)).toEqual([
      'zone example.com: record z: name www.example.net is outside the zone',
      'service app.example.com: it is outside its zone example.org',
    ]);
    expect(() => buildSnapshot(minimal(), -1)).toThrow(/version -1 must be a non-negative integer/);
  });

  it('deep-freezes everything, and its maps cannot be changed', () => {
    const snapshot = snapshotOf([{ fqdn: 'app.example.com', policy: 'geolocation', regions: ['eu-west-1'], geolocation: { DE: ['eu-west-1'] } }]);
    const region = snapshot.regions.get('eu-west-1');
    const service = snapshot.services.get('app.example.com');
    const zone = snapshot.zones.get('example.com');
    for (const value of [snapshot, region, region?.ipv4, region?.ipv6, service, service?.regions, service?.geolocation, service?.geolocation?.DE, zone, zone?.records, zone?.nameservers]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    for (const map of [snapshot.zones, snapshot.regions, snapshot.services]) {
      expect(map).toBeInstanceOf(ImmutableMap);
      expect(Object.isFrozen(map)).toBe(true);
      const mutable = map as unknown as Record<string, unknown>;
      expect(mutable.set).toBeUndefined();
      expect(mutable.delete).toBeUndefined();
      expect(mutable.clear).toBeUndefined();
      expect(() => Map.prototype.set.call(map, 'x', 1)).toThrow(TypeError);
      expect(() => Map.prototype.clear.call(map)).toThrow(TypeError);
    }
    expect(() => {
      (region as { weight: number }).weight = 5;
    }).toThrow(TypeError);
    expect(snapshot.regions.size).toBe(ALL_REGIONS.length);
  });

  it('copies its input: later changes to the input do not reach the snapshot, and the input is not frozen', () => {
    const regions = [{ ...REGIONS.euWest1, ipv4: ['192.0.2.10'] }];
    const services = [{ fqdn: 'app.example.com', policy: 'failover' as const, regions: ['eu-west-1'] }];
    const snapshot = buildSnapshot({ zones: [ZONE], regions, services }, 1);
    expect(Object.isFrozen(regions[0])).toBe(false);
    regions[0].ipv4.push('192.0.2.99');
    services[0].regions.push('us-east-1');
    expect(snapshot.regions.get('eu-west-1')?.ipv4).toEqual(['192.0.2.10']);
    expect(snapshot.services.get('app.example.com')?.regions).toEqual(['eu-west-1']);
  });

  it('ImmutableMap reads like a Map', () => {
    const map = new ImmutableMap([
      ['a', 1],
      ['b', 2],
    ]);
    expect(map.get('a')).toBe(1);
    expect(map.has('c')).toBe(false);
    expect(map.size).toBe(2);
    expect([...map]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect([...map.keys()]).toEqual(['a', 'b']);
    expect([...map.values()]).toEqual([1, 2]);
    expect([...map.entries()]).toEqual([...map]);
    const seen: string[] = [];
    map.forEach((value, key, self) => seen.push(`${key}=${value}:${self === map}`));
    expect(seen).toEqual(['a=1:true', 'b=2:true']);
    expect(Object.prototype.toString.call(map)).toBe('[object ImmutableMap]');
  });
});

describe('emptySnapshot', () => {
  it('is a frozen, valid snapshot with nothing in it', () => {
    const snapshot = emptySnapshot();
    expect(snapshot.version).toBe(0);
    expect(snapshot.zones.size + snapshot.regions.size + snapshot.services.size).toBe(0);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(decide(snapshot, query(CLIENTS.berlin))).toBeNull();
  });
});

describe('incremental builds (previous snapshot given)', () => {
  const input = (over: { ttl?: number; drained?: boolean; lat?: number } = {}): SnapshotInput => ({
    zones: [ZONE],
    regions: ALL_REGIONS.map((r, i) => ({ ...r, drained: i === 0 ? (over.drained ?? false) : false, latitude: i === 1 ? (over.lat ?? r.latitude) : r.latitude })),
    services: [
      { fqdn: 'app.example.com', policy: 'proximity', regions: ['eu-west-1', 'us-east-1'], ttl: over.ttl ?? 30 },
      { fqdn: 'other.example.com', policy: 'failover', regions: ['us-east-1'] },
    ],
  });

  it('reuses unchanged services and plans, rebuilds a changed one, and moves only the state for a drain', () => {
    const first = buildSnapshot(input(), 1);
    const same = buildSnapshot(input(), 2, new Date(), first);
    expect(same.services.get('app.example.com')).toBe(first.services.get('app.example.com'));
    expect(same.zones.get('example.com')).toBe(first.zones.get('example.com'));
    expect(same.state).toBe(first.state);

    const changed = buildSnapshot(input({ ttl: 60 }), 3, new Date(), same);
    expect(changed.services.get('app.example.com')).not.toBe(same.services.get('app.example.com'));
    expect(changed.services.get('app.example.com')!.ttl).toBe(60);
    expect(changed.services.get('other.example.com')).toBe(same.services.get('other.example.com'));

    const drained = buildSnapshot(input({ ttl: 60, drained: true }), 4, new Date(), changed);
    expect(drained.services.get('app.example.com')).toBe(changed.services.get('app.example.com'));
    expect(drained.state!.version).toBe(changed.state!.version + 1);
    expect(drained.state!.flags[drained.regionIds!.get(ALL_REGIONS[0].name)!]).toBe(1);
  });

  it('a region that moves rebuilds the plans (and keeps the services)', () => {
    const first = buildSnapshot(input(), 1);
    const moved = buildSnapshot(input({ lat: 10 }), 2, new Date(), first);
    expect(moved.services.get('app.example.com')).toBe(first.services.get('app.example.com'));
    expect(moved.regions.get(ALL_REGIONS[1].name)!.latitude).toBe(10);
  });
});
