import { CLIENTS, UNKNOWN_LOCATION, located, policyContext, rankedNames } from './fixtures';
import { geolocationPolicy } from './geolocation.policy';
import type { GeoLocation } from './types';

const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'];
// Distances from the client to each region, in the order above (only their order matters here).
const FROM_EUROPE = [6500, 8500, 1300, 400, 9000];
const FROM_NORTH_AMERICA = [350, 3800, 5100, 6200, 10800];
const FROM_ASIA = [10900, 7900, 9600, 9300, 0];

const geolocation = {
  DE: ['eu-central-1'],
  'continent:EU': ['eu-west-1', 'eu-central-1'],
  'continent:NA': ['us-east-1'],
  '*': ['us-west-2'],
};

describe('geolocationPolicy', () => {
  it.each<[string, GeoLocation, number[] | null, [string, string][], number]>([
    [
      'country entry, then continent entry, then *, then the rest by distance',
      CLIENTS.berlin,
      FROM_EUROPE,
      [
        ['eu-central-1', 'geolocation-country'],
        ['eu-west-1', 'geolocation-continent'],
        ['us-west-2', 'geolocation-default'],
        ['us-east-1', 'geolocation-nearest'],
        ['ap-northeast-1', 'geolocation-nearest'],
      ],
      3,
    ],
    [
      'no country entry: the continent entry in its own order',
      CLIENTS.paris,
      FROM_EUROPE,
      [
        ['eu-west-1', 'geolocation-continent'],
        ['eu-central-1', 'geolocation-continent'],
        ['us-west-2', 'geolocation-default'],
        ['us-east-1', 'geolocation-nearest'],
        ['ap-northeast-1', 'geolocation-nearest'],
      ],
      3,
    ],
    [
      'continent NA',
      CLIENTS.newYork,
      FROM_NORTH_AMERICA,
      [
        ['us-east-1', 'geolocation-continent'],
        ['us-west-2', 'geolocation-default'],
        ['eu-west-1', 'geolocation-nearest'],
        ['eu-central-1', 'geolocation-nearest'],
        ['ap-northeast-1', 'geolocation-nearest'],
      ],
      2,
    ],
    [
      'only * matches',
      CLIENTS.tokyo,
      FROM_ASIA,
      [
        ['us-west-2', 'geolocation-default'],
        ['ap-northeast-1', 'geolocation-nearest'],
        ['eu-central-1', 'geolocation-nearest'],
        ['eu-west-1', 'geolocation-nearest'],
        ['us-east-1', 'geolocation-nearest'],
      ],
      1,
    ],
    [
      'unknown location: * first, then the service order',
      UNKNOWN_LOCATION,
      null,
      [
        ['us-west-2', 'geolocation-default'],
        ['us-east-1', 'unknown-location'],
        ['eu-west-1', 'unknown-location'],
        ['eu-central-1', 'unknown-location'],
        ['ap-northeast-1', 'unknown-location'],
      ],
      1,
    ],
    [
      'a country without coordinates: entries, then the service order',
      located('DE', 'EU', null, null),
      null,
      [
        ['eu-central-1', 'geolocation-country'],
        ['eu-west-1', 'geolocation-continent'],
        ['us-west-2', 'geolocation-default'],
        ['us-east-1', 'unknown-location'],
        ['ap-northeast-1', 'unknown-location'],
      ],
      3,
    ],
    [
      'a continent without a country',
      located(null, 'EU', 50, 10),
      FROM_EUROPE,
      [
        ['eu-west-1', 'geolocation-continent'],
        ['eu-central-1', 'geolocation-continent'],
        ['us-west-2', 'geolocation-default'],
        ['us-east-1', 'geolocation-nearest'],
        ['ap-northeast-1', 'geolocation-nearest'],
      ],
      3,
    ],
  ])('%s', (_name, location, distances, expected, matched) => {
    const context = policyContext({ policy: 'geolocation', regions, geolocation }, location, distances);
    const ranking = geolocationPolicy(context);
    expect(rankedNames(context, ranking)).toEqual(expected);
    expect(ranking.matchedEntryLength).toBe(matched);
  });

  it('without a map is proximity over every region', () => {
    const context = policyContext({ policy: 'geolocation', regions }, CLIENTS.berlin, FROM_EUROPE);
    const ranking = geolocationPolicy(context);
    expect(rankedNames(context, ranking).map(([r]) => r)).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-2', 'ap-northeast-1']);
    expect(new Set(ranking.reasons)).toEqual(new Set(['geolocation-nearest']));
    expect(ranking.matchedEntryLength).toBe(0);
  });

  it('without a map and without a location is the service order, reason unknown-location', () => {
    const context = policyContext({ policy: 'geolocation', regions }, UNKNOWN_LOCATION, null);
    expect(rankedNames(context, geolocationPolicy(context))).toEqual(regions.map((r) => [r, 'unknown-location']));
  });

  it('matches a lower-case country from the locator', () => {
    const context = policyContext({ policy: 'geolocation', regions, geolocation }, located('de', 'eu', 52.5, 13.4), FROM_EUROPE);
    expect(rankedNames(context, geolocationPolicy(context))[0]).toEqual(['eu-central-1', 'geolocation-country']);
  });
});
