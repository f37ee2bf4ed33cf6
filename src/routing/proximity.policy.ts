/**
 * Proximity: nearest region first by great-circle distance (rounded to 0.1 km), equal distances
 * in service order. A client without coordinates gets the service order ('unknown-location').
 */
import { serviceOrder, sortByDistance, type PolicyContext, type PolicyRanking } from './policy';
import type { Reason } from './types';

export function proximityPolicy(context: PolicyContext): PolicyRanking {
  const n = context.plan.regions.length;
  const { distancesKm } = context;
  const order = serviceOrder(n);
  if (distancesKm !== null) sortByDistance(order, distancesKm);
  const reason: Reason = distancesKm !== null ? 'nearest-healthy' : 'unknown-location';
  return { order, reasons: new Array<Reason>(n).fill(reason), matchedEntryLength: 0 };
}
