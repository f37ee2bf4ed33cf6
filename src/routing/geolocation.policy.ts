/**
 * Geolocation: the service's geolocation map, most specific entry first.
 *
 * Order: the regions of the client's country entry ("DE"), then of its continent entry
 * ("continent:EU"), then of the "*" entry, each in the entry's order and each region once;
 * then every other region of the service by proximity (service order without coordinates).
 * Because the less specific tiers follow the more specific ones, an entry whose regions are all
 * unusable falls through to the next one rather than leaving nothing. An entry naming no region
 * of the service does not match. A client with no country and no continent matches only "*".
 *
 * Reasons: 'geolocation-country' / '-continent' / '-default' for entry tiers;
 * 'geolocation-nearest' for the proximity tier, or 'unknown-location' when the client has no
 * coordinates for it.
 */
import { sortByDistance, type PolicyContext, type PolicyRanking } from './policy';
import type { Reason } from './types';

export function geolocationPolicy(context: PolicyContext): PolicyRanking {
  const { plan, client, distancesKm } = context;
  const n = plan.regions.length;
  const taken = new Array<boolean>(n).fill(false);
  const order: number[] = [];
  const reasons: Reason[] = [];

  const addTier = (positions: readonly number[] | null | undefined, reason: Reason): void => {
    if (!positions) return;
    for (const position of positions) {
      if (position < n && !taken[position]) {
        taken[position] = true;
        order.push(position);
        reasons.push(reason);
      }
    }
  };

  const { country, continent } = client.location;
  if (country) addTier(plan.byCountry.get(country.toUpperCase()), 'geolocation-country');
  if (continent) addTier(plan.byContinent.get(continent.toUpperCase()), 'geolocation-continent');
  addTier(plan.byDefault, 'geolocation-default');
  const matchedEntryLength = order.length;

  const rest: number[] = [];
  for (let i = 0; i < n; i++) if (!taken[i]) rest.push(i);
  if (distancesKm !== null) sortByDistance(rest, distancesKm);
  const restReason: Reason = distancesKm !== null ? 'geolocation-nearest' : 'unknown-location';
  for (const position of rest) {
    order.push(position);
    reasons.push(restReason);
  }
  return { order, reasons, matchedEntryLength };
}
