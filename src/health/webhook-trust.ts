import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { HealthRepository } from './health.repository';
import { HealthService } from './health.service';

/** How long a webhook id is remembered: longer than the 5 minutes a timestamp stays acceptable, either way. */
export const WEBHOOK_ID_RETENTION_MS = 15 * 60 * 1000;
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Who may send a health webhook, beside the webhook service that checks deliveries:
 * - the secrets a region's deliveries may be signed with: the region's own webhookSecret first,
 *   then WEBHOOK_SECRET;
 * - replay protection: each accepted delivery's `webhook-id` is stored (webhook_deliveries,
 *   shared by every instance and kept across restarts), and a second delivery with the same id
 *   is a replay. Ids older than WEBHOOK_ID_RETENTION_MS are pruned every minute once the
 *   database is connected; a failed prune is logged and tried again.
 */
@Injectable()
export class WebhookTrust implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('health');
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly health: HealthService,
    private readonly repository: HealthRepository,
  ) {}

  onModuleInit(): void {
    this.repository.whenConnected(() => this.schedulePrune());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** The secrets a webhook for this region may be signed with, and whether the region exists. */
  async secretsFor(region: string | null): Promise<{ known: boolean; secrets: string[] }> {
    const cfg = region === null ? undefined : await this.health.configOf(region);
    const secrets = [cfg?.webhookSecret ?? null, this.config.webhookSecret].filter((s): s is string => s !== null);
    return { known: cfg !== undefined, secrets };
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
