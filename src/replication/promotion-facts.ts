import { Injectable } from '@nestjs/common';
import { HealthService } from '../health/health.service';
import type { RegionEntity } from '../registry/region.entity';
import { jurisdictionOf } from '../routing/jurisdiction';
import { lagReportMaxAgeMs, type PromotionInput, type PromotionRegion } from '../routing/replication';
import type { HealthStatus, Residency, RoutingSnapshot, ServiceSnap } from '../routing/types';
import { ReplicationLagStore } from './lag.store';

/** A region of a replicated service as the promotion rules read it, from the snapshot or from its row. */
export interface ReplicaRegion {
  readonly region: string;
  readonly jurisdiction: string;
  readonly drained: boolean;
  /** How old a lag report may get (the region's heartbeatTimeoutSeconds, else 60 s). */
  readonly maxReportAgeMs: number;
  /** The health to assume when the health module has no verdict for the region. */
  readonly fallbackHealth: HealthStatus;
}

/** The service's regions in the snapshot, in service order; a region missing from the snapshot is left out. */
export function replicaRegionsInSnapshot(snapshot: RoutingSnapshot, service: ServiceSnap): ReplicaRegion[] {
  const out: ReplicaRegion[] = [];
  for (const member of service.replication?.members ?? []) {
    const region = snapshot.regions.get(member.region);
    if (region === undefined) continue;
    out.push({ region: member.region, jurisdiction: region.jurisdiction, drained: region.drained, maxReportAgeMs: member.maxReportAgeMs, fallbackHealth: region.health });
  }
  return out;
}

/** A region from its database row; a name without a row reads as no jurisdiction, not drained, health unknown. */
export function replicaRegionOfRow(name: string, row: RegionEntity | undefined): ReplicaRegion {
  return {
    region: name,
    jurisdiction: row ? jurisdictionOf(row.countryCode) : '',
    drained: row?.drained ?? false,
    maxReportAgeMs: lagReportMaxAgeMs(row?.heartbeatTimeoutSeconds),
    fallbackHealth: 'unknown',
  };
}

/** What choosePromotion and assessPromotionTarget need of a service besides its regions. */
export interface PromotionTarget {
  readonly fqdn: string;
  readonly primary: string;
  readonly residency: Residency;
  readonly maxStalenessMs: number | null;
}

/**
 * The one builder of promotion facts: each region's settings joined with its last lag report for
 * the service (ReplicationLagStore) and this instance's health verdict (HealthService). The
 * automatic scheduler (from the snapshot, memory only), a manual promotion and the replication
 * view (from the database rows) all read regions through it.
 */
@Injectable()
export class PromotionFacts {
  constructor(
    private readonly lag: ReplicationLagStore,
    private readonly health: HealthService,
  ) {}

  regions(fqdn: string, regions: readonly ReplicaRegion[]): PromotionRegion[] {
    return regions.map((r) => {
      const lag = this.lag.lagOf(fqdn, r.region);
      return {
        region: r.region,
        jurisdiction: r.jurisdiction,
        health: this.health.statusOf(r.region)?.status ?? r.fallbackHealth,
        drained: r.drained,
        lagMs: lag?.lagMs ?? null,
        reportedAtMs: lag?.reportedAtMs ?? null,
        maxReportAgeMs: r.maxReportAgeMs,
      };
    });
  }

  input(target: PromotionTarget, regions: readonly ReplicaRegion[], now: number): PromotionInput {
    return { primary: target.primary, residency: target.residency, maxStalenessMs: target.maxStalenessMs, regions: this.regions(target.fqdn, regions), now };
  }

  /** From the current snapshot (the scheduler's path: no database); null unless the service is active-passive with a primary. */
  fromSnapshot(snapshot: RoutingSnapshot, service: ServiceSnap, now: number): PromotionInput | null {
    const r = service.replication;
    if (r?.mode !== 'active-passive' || r.primary === null) return null;
    const target = { fqdn: service.fqdn, primary: r.primary, residency: service.residency, maxStalenessMs: r.maxStalenessMs };
    return this.input(target, replicaRegionsInSnapshot(snapshot, service), now);
  }
}
