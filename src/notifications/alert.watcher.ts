import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { OnAppEvent, SNAPSHOT_BUILD_FAILED, type SnapshotBuildFailedEvent } from '../common/events';
import { MetricsService } from '../metrics/metrics.service';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { refusalAlert } from './notification-events';
import { NotificationsRepository } from './notifications.repository';

/**
 * The alerts about this instance's own state (each instance builds its own snapshot and answers
 * its own clients, so each raises its own; the dedupe key names the instance and the window):
 * - `snapshot.build-failed`: once when rebuilds start failing (the last good snapshot keeps
 *   serving), again only after a build has succeeded in between;
 * - `residency.refusals`: at most once a window (ALERT_WINDOW_SECONDS) when this instance refused
 *   at least ALERT_RESIDENCY_REFUSALS answers for residency in it (DNS, redirects, explain).
 * Queued in the outbox like every other event (one delivery per endpoint, retried).
 */
@Injectable()
export class AlertWatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('notifications');
  private failingSince: string | null = null;
  private refusals = new Map<string, number>();
  private windowStart = new Date();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly repository: NotificationsRepository,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // A snapshot installed while no build error stands ends a failure episode.
    this.unsubscribe = this.snapshots.subscribe(() => {
      if (this.snapshots.lastError === null) this.failingSince = null;
    });
    if (this.config.alertResidencyRefusals > 0) {
      void this.readRefusals().then((counts) => (this.refusals = counts));
      this.timer = setInterval(() => void this.checkRefusals(), this.config.alertWindowMs);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
  }

  @OnAppEvent(SNAPSHOT_BUILD_FAILED)
  onBuildFailed(event: SnapshotBuildFailedEvent): void {
    if (this.failingSince !== null) return;
    this.failingSince = new Date().toISOString();
    const data = { instance: this.config.instanceId, error: event.error, servingVersion: event.version, since: this.failingSince };
    this.queue('snapshot.build-failed', `snapshot.build-failed:${this.config.instanceId}:${this.failingSince}`, data);
  }

  private async readRefusals(): Promise<Map<string, number>> {
    this.metrics.collect();
    const counts = new Map<string, number>();
    for (const v of (await this.metrics.residencyRefusals.get()).values) {
      const service = String(v.labels.service ?? '');
      counts.set(service, (counts.get(service) ?? 0) + v.value);
    }
    return counts;
  }

  private async checkRefusals(): Promise<void> {
    const current = await this.readRefusals();
    const alert = refusalAlert(this.refusals, current, this.config.alertResidencyRefusals);
    const from = this.windowStart;
    this.refusals = current;
    this.windowStart = new Date();
    if (alert === null) return;
    const data = { instance: this.config.instanceId, refusals: alert.total, threshold: this.config.alertResidencyRefusals, from: from.toISOString(), to: this.windowStart.toISOString(), services: alert.services };
    this.queue('residency.refusals', `residency.refusals:${this.config.instanceId}:${from.toISOString()}`, data);
  }

  private queue(type: 'snapshot.build-failed' | 'residency.refusals', key: string, data: Record<string, unknown>): void {
    const payload = { type, timestamp: new Date().toISOString(), data };
    this.repository.enqueueOnce(type, key, payload).catch((err: Error) => this.logger.warn(`cannot queue ${type}: ${err.message}`));
  }
}
