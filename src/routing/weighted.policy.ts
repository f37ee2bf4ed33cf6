/**
 * Weighted: rendezvous hashing of the client's /24 (IPv4) or /48 (IPv6) over the regions'
 * weights. Every client of a subnet gets the same order; removing or draining a region moves
 * only its own clients; weight-0 regions come last (see rendezvous.ts).
 */
import { type PolicyContext, type PolicyRanking } from './policy';
import { clientHashKey, rendezvousIndexOrder } from './rendezvous';
import type { Reason } from './types';

export function weightedPolicy(context: PolicyContext): PolicyRanking {
  const { plan, client } = context;
  const order = rendezvousIndexOrder(clientHashKey(client.ip, client.family), plan.regions);
  return { order, reasons: new Array<Reason>(order.length).fill('weighted'), matchedEntryLength: 0 };
}
