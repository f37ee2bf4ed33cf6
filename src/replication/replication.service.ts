import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { HealthService } from '../health/health.service';
import { RegionEntity } from '../registry/region.entity';
import { ServiceEntity } from '../registry/service.entity';
import { toReplicationView } from '../registry/services.service';
import { jurisdictionOf } from '../routing/jurisdiction';
import { lagReportMaxAgeMs, replicaStaleness, roleOf } from '../routing/replication';
import { ReplicationLagStore } from './lag.store';
import { PromotionRow, ReplicaStateView, ServiceReplicationView, toPromotionView } from './promotion.types';

const PROMOTIONS_SHOWN = 20;

/** GET /v1/services/{fqdn}/replication: settings, each region's role, lag and eligibility now, recent promotions. */
@Injectable()
export class ReplicationService {
  constructor(
    private readonly ds: DataSource,
    private readonly health: HealthService,
    private readonly lag: ReplicationLagStore,
  ) {}

  async view(fqdnIn: string, now = Date.now()): Promise<ServiceReplicationView> {
    const fqdn = normalizeName(fqdnIn);
    const service = await this.ds.manager.findOneBy(ServiceEntity, { fqdn });
    if (!service) throw DomainError.notFound('service', fqdn);
    const r = service.replication;
    const [rows, promotions] = await Promise.all([
      this.ds.manager.find(RegionEntity, { where: { name: In(service.regions) } }),
      this.ds.query('SELECT * FROM replication_promotions WHERE service = $1 ORDER BY id DESC LIMIT $2', [fqdn, PROMOTIONS_SHOWN]) as Promise<PromotionRow[]>,
    ]);
    const byName = new Map(rows.map((x) => [x.name, x]));
    const regions: ReplicaStateView[] = service.regions.map((name) => {
      const row = byName.get(name);
      const lag = this.lag.lagOf(fqdn, name);
      const role = r === null ? null : roleOf(r.mode, r.primary, name);
      const maxReportAgeMs = lagReportMaxAgeMs(row?.heartbeatTimeoutSeconds);
      const staleBecause =
        r === null || role === null
          ? null
          : replicaStaleness({ role, lagMs: lag?.lagMs ?? null, reportedAtMs: lag?.reportedAtMs ?? null, maxStalenessMs: r.maxStalenessMs, maxReportAgeMs, now });
      return {
        region: name,
        jurisdiction: row ? jurisdictionOf(row.countryCode) : '',
        role,
        health: this.health.statusOf(name)?.status ?? 'unknown',
        drained: row?.drained ?? false,
        lagMs: lag?.lagMs ?? null,
        reportedAt: lag ? new Date(lag.reportedAtMs).toISOString() : null,
        reportAgeMs: lag ? Math.max(0, now - lag.reportedAtMs) : null,
        maxReportAgeMs,
        readEligible: staleBecause === null,
        staleBecause,
      };
    });
    return { fqdn, ...toReplicationView(r), regions, promotions: promotions.map(toPromotionView) };
  }
}
