import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DomainError, ErrorCode } from '../common/domain-error';
import { normalizeName } from '../common/dns-name';
import { EventBus, REGISTRY_CHANGED } from '../common/events';
import { assessPromotionTarget, isForceable } from '../routing/replication';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { ReplicationLagStore } from './lag.store';
import { PromotionNotifier } from './notification.sender';
import { PromotionFacts, replicaRegionOfRow } from './promotion-facts';
import { PromotionEventResponse, PromotionRequest, toPromotionResponse } from './promotion.types';
import { ReplicationRepository } from './replication.repository';

/**
 * Makes a replica the primary of an active-passive service, exactly once however many instances
 * try (ReplicationRepository.promote: one transaction with a conditional update); then the
 * snapshot is rebuilt and the operator is notified. Manual promotions are checked first
 * (assessPromotionTarget over PromotionFacts), and forced past the safety checks on request.
 */
@Injectable()
export class PromotionService {
  private readonly logger = new Logger('replication');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: ReplicationRepository,
    private readonly events: EventBus,
    private readonly snapshots: SnapshotStore,
    private readonly lag: ReplicationLagStore,
    private readonly facts: PromotionFacts,
    private readonly notifier: PromotionNotifier,
  ) {}

  /** POST /v1/services/{fqdn}/promote: checks the target (force overrides the safety checks) and promotes it. */
  async promoteManually(fqdnIn: string, region: string, force: boolean): Promise<PromotionEventResponse> {
    const fqdn = normalizeName(fqdnIn);
    const service = await this.repository.findService(fqdn);
    if (!service) throw DomainError.notFound('service', fqdn);
    const r = service.replication;
    if (r?.mode !== 'active-passive' || r.primary === null) {
      throw DomainError.conflict(`service "${fqdn}" is not active-passive (replication mode ${r?.mode ?? 'none'}): it has no primary to replace`);
    }
    if (!service.regions.includes(region)) throw DomainError.field('region', 'service-region', `region "${region}" is not one of the service's regions`);
    await this.lag.sync(); // reports received by other instances count too
    const rows = new Map((await this.repository.regionsNamed(service.regions)).map((x) => [x.name, x]));
    const regions = service.regions.filter((name) => rows.has(name)).map((name) => replicaRegionOfRow(name, rows.get(name)));
    const target = { fqdn, primary: r.primary, residency: service.residency, maxStalenessMs: r.maxStalenessMs };
    const input = this.facts.input(target, regions, Date.now());
    const verdict = assessPromotionTarget(input, region);
    if (verdict.refusal !== null && (!force || !isForceable(verdict.refusal))) {
      const hint = isForceable(verdict.refusal) ? '; send "force": true to promote it anyway' : '';
      throw new DomainError(ErrorCode.Conflict, `cannot promote ${region}: ${verdict.detail}${hint}`, [], { reason: verdict.refusal, region });
    }
    const reason =
      verdict.refusal === null
        ? `manual promotion of ${region} (lag ${verdict.lagMs} ms)`
        : `manual promotion of ${region}, forced past: ${verdict.detail}`;
    const event = await this.promote({
      fqdn,
      from: r.primary,
      to: region,
      trigger: 'manual',
      forced: verdict.refusal !== null,
      dataLossWindowMs: verdict.lagMs,
      reason,
    });
    if (event === null) {
      const now = await this.repository.findService(fqdn);
      throw DomainError.conflict(`the primary of "${fqdn}" changed meanwhile (now ${now?.replication?.primary ?? 'unknown'}); nothing was promoted`);
    }
    return event;
  }

  /**
   * The one promotion transaction. Returns the event, or null when the primary is no longer
   * `from` (another instance, or a concurrent request, promoted first).
   */
  async promote(req: PromotionRequest): Promise<PromotionEventResponse | null> {
    const outcome = await this.repository.promote(req, this.config.instanceId);
    if (outcome === null) {
      this.logger.log(`promotion of ${req.to} for ${req.fqdn} not made: the primary is no longer ${req.from}`);
      return null;
    }
    const { notice } = outcome;
    const event = toPromotionResponse(outcome.row);
    this.lag.forget(req.fqdn, req.from);
    this.logger.warn(
      `service ${req.fqdn}: promoted ${req.to} (was ${req.from}; ${req.trigger}${req.forced ? ', forced' : ''}; data-loss window ${req.dataLossWindowMs ?? 'unknown'} ms): ${req.reason}`,
    );
    this.events.emit(REGISTRY_CHANGED, { kind: 'service', name: req.fqdn });
    await this.snapshots.requestRebuild({ reload: true });
    if (notice.notify_url !== null && notice.notify_secret !== null) {
      void this.notifier.send(event, notice.notify_url, notice.notify_secret, notice.write_fqdn);
    }
    return event;
  }
}
