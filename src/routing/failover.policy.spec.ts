import { failoverPolicy } from './failover.policy';
import { CLIENTS, UNKNOWN_LOCATION, policyContext, rankedNames } from './fixtures';

describe('failoverPolicy', () => {
  it.each([
    ['three regions', ['eu-west-1', 'us-east-1', 'eu-central-1']],
    ['the order is the operator\'s, not geography', ['ap-northeast-1', 'eu-central-1']],
    ['a single region', ['us-east-1']],
  ])('%s: keeps the service order, primary first', (_name, regions) => {
    const context = policyContext({ policy: 'failover', regions }, CLIENTS.berlin, [1, 2, 3].slice(0, regions.length));
    const ranking = failoverPolicy(context);
    expect(rankedNames(context, ranking)).toEqual(regions.map((r, k) => [r, k === 0 ? 'failover-primary' : 'failover-next']));
    expect(ranking.matchedEntryLength).toBe(0);
  });

  it('does not depend on the client', () => {
    const regions = ['eu-west-1', 'us-east-1'];
    const located = policyContext({ policy: 'failover', regions }, CLIENTS.tokyo, [9000, 10000]);
    const unknown = policyContext({ policy: 'failover', regions }, UNKNOWN_LOCATION, null, '2001:db8::1');
    expect(failoverPolicy(located)).toEqual(failoverPolicy(unknown));
  });
});
