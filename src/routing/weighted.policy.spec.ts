import { CLIENTS, policyContext, rankedNames } from './fixtures';
import { clientHashKey, rendezvousOrder } from './rendezvous';
import { weightedPolicy } from './weighted.policy';

const settings = { policy: 'weighted' as const, regions: ['eu-west-1', 'eu-central-1', 'us-east-1'] };

describe('weightedPolicy', () => {
  it.each([['192.0.2.77'], ['198.51.100.3'], ['203.0.113.200'], ['2001:db8:1:2::77'], ['2001:db8:ffff::1']])(
    'orders the regions by rendezvous hashing of the client subnet (%s)',
    (ip) => {
      const context = policyContext(settings, CLIENTS.berlin, null, ip);
      const expected = rendezvousOrder(clientHashKey(ip, ip.includes(':') ? 6 : 4), context.plan.regions).map((r) => r.name);
      const ranking = weightedPolicy(context);
      expect(rankedNames(context, ranking)).toEqual(expected.map((r) => [r, 'weighted']));
      expect(ranking.matchedEntryLength).toBe(0);
    },
  );

  it('gives every client of a /24 the same order, whatever its location', () => {
    const orders = new Set(
      ['192.0.2.1', '192.0.2.77', '192.0.2.254'].map((ip) => {
        const context = policyContext(settings, ip === '192.0.2.1' ? CLIENTS.tokyo : CLIENTS.berlin, null, ip);
        return weightedPolicy(context).order.join();
      }),
    );
    expect(orders.size).toBe(1);
  });

  it('puts weight-0 regions last', () => {
    const context = policyContext(settings, CLIENTS.berlin, null);
    const zeroed = { ...context, plan: { ...context.plan, regions: context.plan.regions.map((r) => (r.name === 'us-east-1' ? { ...r, weight: 0 } : r)) } };
    for (let i = 0; i < 50; i++) {
      const ranking = weightedPolicy({ ...zeroed, client: { ...zeroed.client, ip: `10.0.${i}.1` } });
      expect(zeroed.plan.regions[ranking.order[2]].name).toBe('us-east-1');
    }
  });
});
