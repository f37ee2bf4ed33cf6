import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { HealthRepository } from './health.repository';
import { HealthService } from './health.service';

/** How long a webhook id is remembered: longer than the 5 minutes a timestamp stays acceptable, either way. */
export const WEBHOOK_ID_RETENTION_MS = 15 * 60 * 1000;
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Who may send a health webhook, beside the webhook service that checks deliveries:
 * - the secrets a region's deliveries may be signed with: the region's own webhookSecret when it
 *   has one (WEBHOOK_SECRET is then not accepted for it), else WEBHOOK_SECRET;
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

  /**
   * The secrets a delivery naming this region may be signed with, from memory only (no database
   * work before the signature is checked): the region's own webhookSecret alone when it has one
   * (it replaces WEBHOOK_SECRET for that region), else WEBHOOK_SECRET. A region this instance
   * does not know yet gets WEBHOOK_SECRET; `known` says whether it was found.
   */
  async cachedSecretsFor(region: string | null): Promise<{ known: boolean; secrets: string[] }> {
    const cfg = region === null ? undefined : await this.health.cachedConfigOf(region);
    return { known: cfg !== undefined, secrets: secretsOf(cfg?.webhookSecret ?? null, this.config.webhookSecret) };
  }

  /**
   * After a delivery verified with WEBHOOK_SECRET named a region this instance did not know:
   * reads the registry again. `secrets` then says what the region accepts now.
   */
  async refreshedSecretsFor(region: string): Promise<{ known: boolean; secrets: string[] }> {
    const cfg = await this.health.configOf(region);
    return { known: cfg !== undefined, secrets: secretsOf(cfg?.webhookSecret ?? null, this.config.webhookSecret) };
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

function secretsOf(own: string | null, global: string | null): string[] {
  if (own !== null) return [own];
  return global === null ? [] : [global];
}
