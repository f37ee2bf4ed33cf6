import { redactUrlCredentials } from '../common/outbound-policy';
import type { HealthStatus, ReplicaRole, ReplicaStaleness } from '../routing/types';
import type { ReplicationSettingsResponse } from '../registry/dto/service.dto';

/** A primary change to make: automatic (the scheduler) or manual (POST /v1/services/{fqdn}/promote). */
export interface PromotionRequest {
  readonly fqdn: string;
  readonly from: string;
  readonly to: string;
  readonly trigger: 'automatic' | 'manual';
  readonly forced: boolean;
  readonly dataLossWindowMs: number | null;
  readonly reason: string;
}

/** One row of replication_promotions as the API shows it. */
export interface PromotionEventResponse {
  id: number;
  service: string;
  at: string;
  from: string;
  to: string;
  trigger: 'automatic' | 'manual';
  forced: boolean;
  /** The promoted replica's last reported lag: writes newer than this may be lost. null when unknown (forced). */
  dataLossWindowMs: number | null;
  reason: string;
  instance: string | null;
  notification: { url: string; status: string | null; deliveredAt: string | null } | null;
}

/** GET /v1/services/{fqdn}/replication, one region. */
export interface ReplicaStateResponse {
  region: string;
  jurisdiction: string;
  role: ReplicaRole | null;
  health: HealthStatus;
  drained: boolean;
  /** Last reported replication lag (ms), null when none. */
  lagMs: number | null;
  reportedAt: string | null;
  reportAgeMs: number | null;
  /** How old a report may get (the region's heartbeatTimeoutSeconds, else 60 s). */
  maxReportAgeMs: number;
  /** Whether the region may answer reads now (active-passive: primary, or a fresh replica). */
  readEligible: boolean;
  staleBecause: ReplicaStaleness | null;
}

export type ServiceReplicationResponse = { fqdn: string } & ReplicationSettingsResponse & {
  regions: ReplicaStateResponse[];
  promotions: PromotionEventResponse[];
};

export interface PromotionRow {
  id: string | number;
  service: string;
  at: Date | string;
  from_region: string;
  to_region: string;
  trigger: 'automatic' | 'manual';
  forced: boolean;
  data_loss_window_ms: number | string | null;
  reason: string;
  instance: string | null;
  notify_url: string | null;
  notified_at: Date | string | null;
  notify_status: string | null;
}

export function toPromotionResponse(r: PromotionRow): PromotionEventResponse {
  return {
    id: Number(r.id),
    service: r.service,
    at: new Date(r.at).toISOString(),
    from: r.from_region,
    to: r.to_region,
    trigger: r.trigger,
    forced: r.forced,
    dataLossWindowMs: r.data_loss_window_ms === null ? null : Number(r.data_loss_window_ms),
    reason: r.reason,
    instance: r.instance,
    notification: r.notify_url === null ? null : { url: redactUrlCredentials(r.notify_url), status: r.notify_status, deliveredAt: r.notified_at === null ? null : new Date(r.notified_at).toISOString() },
  };
}
