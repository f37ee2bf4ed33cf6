import { CLIENTS, UNKNOWN_LOCATION, policyContext, rankedNames } from './fixtures';
import { proximityPolicy } from './proximity.policy';

const regions = ['us-east-1', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'];

describe('proximityPolicy', () => {
  it.each([
    ['nearest first', [6000, 1300, 400, 9000], ['eu-central-1', 'eu-west-1', 'us-east-1', 'ap-northeast-1']],
    ['equal distances keep the service order', [500, 500, 100, 500], ['eu-central-1', 'us-east-1', 'eu-west-1', 'ap-northeast-1']],
    ['all equal: the service order', [0, 0, 0, 0], regions],
    ['a tie at the head goes to the earlier region', [700.1, 300.2, 300.2, 10000], ['eu-west-1', 'eu-central-1', 'us-east-1', 'ap-northeast-1']],
    ['0.1 km apart is not a tie', [300.3, 300.2, 300.2, 300.1], ['ap-northeast-1', 'eu-west-1', 'eu-central-1', 'us-east-1']],
  ])('%s', (_name, distances, expected) => {
    const context = policyContext({ policy: 'proximity', regions }, CLIENTS.berlin, distances);
    expect(rankedNames(context, proximityPolicy(context))).toEqual(expected.map((r) => [r, 'nearest-healthy']));
  });

  it('uses the service order, reason unknown-location, without client coordinates', () => {
    const context = policyContext({ policy: 'proximity', regions }, UNKNOWN_LOCATION, null);
    const ranking = proximityPolicy(context);
    expect(rankedNames(context, ranking)).toEqual(regions.map((r) => [r, 'unknown-location']));
    expect(ranking.matchedEntryLength).toBe(0);
  });
});
