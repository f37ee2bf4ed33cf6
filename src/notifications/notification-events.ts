import type { AuditChange } from '../common/audit';
import type { RoutingSnapshot } from '../routing/types';
import { ImmutableMap } from '../routing/immutable-map';

/**
 * The events operators can subscribe a notification endpoint to, and which accepted changes
 * raise them. Pure: the outbox calls `eventsOf` with the changes of a transaction.
 */
export const NOTIFICATION_EVENTS = [
  'region.unhealthy', 'region.healthy', 'replication.promoted', 'replica.stale', 'replica.fresh', 'residency.refusals', 'snapshot.build-failed',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
/** Sent only by POST /v1/notifications/{id}/test, to that endpoint, whatever it subscribed to. */
export const TEST_EVENT = 'notification.test';

export interface RaisedEvent {
  readonly type: NotificationEvent;
  readonly data: Record<string, unknown>;
}

/**
 * region.unhealthy: a region became unhealthy; region.healthy: an unhealthy region recovered
 * (not a new region's first verdict); replication.promoted: a replica became the primary.
 */
export function eventsOf(changes: readonly AuditChange[]): RaisedEvent[] {
  const out: RaisedEvent[] = [];
  for (const c of changes) {
    const before = (c.before ?? {}) as Record<string, unknown>;
    const after = (c.after ?? {}) as Record<string, unknown>;
    if (c.kind === 'region-health' && c.action === 'transition') {
      const data = { region: c.name, from: before.status, to: after.status, source: after.source ?? null, reason: after.reason ?? null };
      if (after.status === 'unhealthy') out.push({ type: 'region.unhealthy', data });
      else if (after.status === 'healthy' && before.status === 'unhealthy') out.push({ type: 'region.healthy', data });
    } else if (c.kind === 'service' && c.action === 'promote') {
      out.push({ type: 'replication.promoted', data: { service: c.name, from: before.primary ?? null, ...after, to: after.primary ?? null } });
    }
  }
  return out;
}

/** A replica whose read eligibility changed between two snapshots. */
export interface ReplicaFlip {
  readonly type: 'replica.stale' | 'replica.fresh';
  /**
   * The same on every instance for the same flip (the service, the region and the lag report it
   * is about), so the outbox keeps one delivery however many instances see it.
   */
  readonly key: string;
  readonly data: { service: string; region: string; staleBecause: string | null; lagMs: number | null; reportedAt: string | null };
}

/**
 * The replicas (active-passive, role replica in both snapshots) that became stale or fresh from
 * `prev` to `next`. A service or member new in `next` has no flip (its first state is no news).
 */
export function replicaFlips(prev: RoutingSnapshot, next: RoutingSnapshot): ReplicaFlip[] {
  const out: ReplicaFlip[] = [];
  // Replicated services are built anew by every build, so they are among the differing entries.
  const differing = next.services instanceof ImmutableMap ? next.services.differingKeys(prev.services) : null;
  for (const name of differing ?? next.services.keys()) {
    const service = next.services.get(name);
    if (service === undefined) continue;
    const before = prev.services.get(service.fqdn);
    if (service.writeOf !== undefined || service.replication?.mode !== 'active-passive' || before?.replication?.mode !== 'active-passive') continue;
    for (const member of service.replication.members) {
      const old = before.replication.members.find((m) => m.region === member.region);
      if (!old || old.role !== 'replica' || member.role !== 'replica' || (old.stale === null) === (member.stale === null)) continue;
      const type = member.stale === null ? 'replica.fresh' : 'replica.stale';
      out.push({
        type,
        key: `${type}:${service.fqdn}:${member.region}:${member.reportedAt ?? 'never'}`,
        data: { service: service.fqdn, region: member.region, staleBecause: member.stale, lagMs: member.lagMs, reportedAt: member.reportedAt },
      });
    }
  }
  return out;
}

/** Exponential backoff: the delay after the n-th failed attempt (1-based): 1 s, 2 s, 4 s, ... at most 5 min. */
export function retryDelayMs(failedAttempts: number): number {
  return Math.min(1000 * 2 ** (failedAttempts - 1), 300_000);
}

/** Attempts before a delivery is given up (about 8.5 minutes of retries). */
export const MAX_ATTEMPTS = 10;

/** Residency refusals of one instance in one window, by service (most first, at most 10). */
export interface RefusalCount {
  readonly service: string;
  readonly count: number;
}

/**
 * residency.refusals: the refusals counted since the last window, when they reach the threshold
 * (0: never). Pure: `previous` and `current` are the counter's totals by service.
 */
export function refusalAlert(previous: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>, threshold: number): { total: number; services: RefusalCount[] } | null {
  if (threshold <= 0) return null;
  const services: RefusalCount[] = [];
  let total = 0;
  for (const [service, now] of current) {
    const delta = now - (previous.get(service) ?? 0);
    if (delta > 0) {
      services.push({ service, count: delta });
      total += delta;
    }
  }
  if (total < threshold) return null;
  services.sort((a, b) => b.count - a.count || a.service.localeCompare(b.service));
  return { total, services: services.slice(0, 10) };
}
