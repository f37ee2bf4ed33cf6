/**
 * Latency: the client network's measured RTTs first (the first evidence level that measures at
 * least two of the service's regions, see latency.ts), fastest first with ties in service order;
 * then every other region by distance (service order without coordinates).
 *
 * Reasons: 'lowest-latency' for measured regions; 'latency-distance-fallback' for the distance
 * tier (the evidence was too thin, or no measured region was usable), 'unknown-location' when
 * the client has no coordinates for it.
 */
import type { LatencyRow } from './latency';
import { sortByDistance, type PolicyContext, type PolicyRanking } from './policy';
import { clientHashKey } from './rendezvous';
import type { Reason } from './types';

export function latencyPolicy(context: PolicyContext): PolicyRanking {
  const { plan, client, distancesKm, latency } = context;
  const n = plan.regions.length;
  const row = latency === undefined ? null : latency.levelFor(plan, clientHashKey(client.ip, client.family), client.location);
  const order: number[] = [];
  const reasons: Reason[] = [];
  const taken = new Array<boolean>(n).fill(false);
  if (row !== null) {
    const measured = measuredPositions(row, plan.positionOf);
    for (const position of measured) {
      taken[position] = true;
      order.push(position);
      reasons.push('lowest-latency');
    }
  }
  const measuredLength = order.length;
  const rest: number[] = [];
  for (let i = 0; i < n; i++) if (!taken[i]) rest.push(i);
  if (distancesKm !== null) sortByDistance(rest, distancesKm);
  const restReason: Reason = distancesKm !== null ? 'latency-distance-fallback' : 'unknown-location';
  for (const position of rest) {
    order.push(position);
    reasons.push(restReason);
  }
  return { order, reasons, matchedEntryLength: 0, latencyRow: row, measuredLength };
}

/** The plan positions a row measures, by RTT; regions within the tie margin in service order. */
export function measuredPositions(row: LatencyRow, positionOf: Int16Array): number[] {
  const entries: { group: number; position: number }[] = [];
  let group = 0;
  for (let k = 0; k < row.ids.length; k++) {
    if (row.ties[k] === 0) group = k;
    const id = row.ids[k];
    const position = id < positionOf.length ? positionOf[id] : -1;
    if (position >= 0) entries.push({ group, position });
  }
  entries.sort((a, b) => a.group - b.group || a.position - b.position);
  return entries.map((e) => e.position);
}
