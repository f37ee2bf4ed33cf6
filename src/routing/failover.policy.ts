/** Failover: the service's own region order. The first region is the primary. */
import { serviceOrder, type PolicyContext, type PolicyRanking } from './policy';
import type { Reason } from './types';

export function failoverPolicy(context: PolicyContext): PolicyRanking {
  const n = context.plan.regions.length;
  const reasons = new Array<Reason>(n);
  for (let k = 0; k < n; k++) reasons[k] = k === 0 ? 'failover-primary' : 'failover-next';
  return { order: serviceOrder(n), reasons, matchedEntryLength: 0 };
}
