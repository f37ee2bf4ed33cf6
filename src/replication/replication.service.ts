import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { toReplicationSettingsResponse } from '../registry/services.service';
import { replicaStaleness, roleOf } from '../routing/replication';
import { PromotionFacts, replicaRegionOfRow } from './promotion-facts';
import { ReplicaStateResponse, ServiceReplicationResponse, toPromotionResponse } from './promotion.types';
import { ReplicationRepository } from './replication.repository';

const PROMOTIONS_SHOWN = 20;

/** GET /v1/services/{fqdn}/replication: settings, each region's role, lag and eligibility now, recent promotions. */
@Injectable()
export class ReplicationService {
  constructor(
    private readonly repository: ReplicationRepository,
    private readonly facts: PromotionFacts,
  ) {}

  async view(fqdnIn: string, now = Date.now()): Promise<ServiceReplicationResponse> {
    const fqdn = normalizeName(fqdnIn);
    const service = await this.repository.findService(fqdn);
    if (!service) throw DomainError.notFound('service', fqdn);
    const r = service.replication;
    const [rows, promotions] = await Promise.all([this.repository.regionsNamed(service.regions), this.repository.recentPromotions(fqdn, PROMOTIONS_SHOWN)]);
    const byName = new Map(rows.map((x) => [x.name, x]));
    const facts = this.facts.regions(fqdn, service.regions.map((name) => replicaRegionOfRow(name, byName.get(name))));
    const regions: ReplicaStateResponse[] = facts.map((f) => {
      const role = r === null ? null : roleOf(r.mode, r.primary, f.region);
      const staleBecause =
        r === null || role === null
          ? null
          : replicaStaleness({ role, lagMs: f.lagMs, reportedAtMs: f.reportedAtMs, maxStalenessMs: r.maxStalenessMs, maxReportAgeMs: f.maxReportAgeMs, now });
      return {
        region: f.region,
        jurisdiction: f.jurisdiction,
        role,
        health: f.health,
        drained: f.drained,
        lagMs: f.lagMs,
        reportedAt: f.reportedAtMs === null ? null : new Date(f.reportedAtMs).toISOString(),
        reportAgeMs: f.reportedAtMs === null ? null : Math.max(0, now - f.reportedAtMs),
        maxReportAgeMs: f.maxReportAgeMs,
        readEligible: staleBecause === null,
        staleBecause,
      };
    });
    return { fqdn, ...toReplicationSettingsResponse(r), regions, promotions: promotions.map(toPromotionResponse) };
  }
}
