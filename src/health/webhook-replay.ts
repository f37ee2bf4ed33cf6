import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthRepository } from './health.repository';

/** How long a webhook id is remembered: longer than the 5 minutes a timestamp stays acceptable, either way. */
export const WEBHOOK_ID_RETENTION_MS = 15 * 60 * 1000;
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Replay protection for health webhooks: each accepted delivery's `webhook-id` is stored
 * (webhook_deliveries, shared by every instance and kept across restarts); a second delivery
 * with the same id is a replay. Ids older than WEBHOOK_ID_RETENTION_MS are pruned every minute,
 * once the database is connected; a failed prune is logged and tried again.
 */
@Injectable()
export class WebhookReplayGuard implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('health');
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly repository: HealthRepository) {}

  onModuleInit(): void {
    this.repository.whenConnected(() => this.schedulePrune());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Records the id; false when it was received before (a replay). */
  firstDelivery(webhookId: string, region: string): Promise<boolean> {
    return this.repository.rememberWebhookId(webhookId, region);
  }

  private schedulePrune(): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      try {
        await this.repository.forgetWebhookIdsBefore(new Date(Date.now() - WEBHOOK_ID_RETENTION_MS));
      } catch (err) {
        this.logger.warn(`pruning webhook ids failed: ${(err as Error).message}`);
      }
      this.schedulePrune();
    }, PRUNE_INTERVAL_MS);
    this.timer.unref();
  }
}
