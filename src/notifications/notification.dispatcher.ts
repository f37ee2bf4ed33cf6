import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { decodeWebhookSecret } from '../common/webhook-secret';
import { OutboundPolicy, postUnderPolicy, urlForLogs as safeUrl } from '../common/outbound-policy';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DatabaseStatus } from '../database/database-status';
import { MAX_ATTEMPTS, retryDelayMs } from './notification-events';
import { ClaimedDelivery, NotificationsRepository } from './notifications.repository';

export const DISPATCH_INTERVAL_MS = 300;
const BATCH = 10;
/** Longer than the request timeout: a lease never runs out while its attempt is still under way. */
const LEASE_SECONDS = 30;
export const DELIVERY_TIMEOUT_MS = 5000;

/**
 * Sends queued notifications. Every instance polls the outbox; a claim (SKIP LOCKED, a lease)
 * gives each attempt to one instance. A delivery is a POST of the event JSON signed per Standard
 * Webhooks (`webhook-id: msg_<delivery id>`, the same on every attempt so receivers can
 * de-duplicate; timestamp and signature fresh per attempt); a 2xx answer delivers it, anything
 * else is retried with exponential backoff (retryDelayMs) up to MAX_ATTEMPTS, then it fails.
 */
@Injectable()
export class NotificationDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('notifications');
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly policy: OutboundPolicy;

  constructor(
    private readonly ds: DataSource,
    private readonly dbStatus: DatabaseStatus,
    private readonly repository: NotificationsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.policy = new OutboundPolicy(config.outboundAllow);
  }

  onModuleInit(): void {
    this.dbStatus.whenConnected(this.ds, async () => this.schedule());
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, DISPATCH_INTERVAL_MS);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let due: ClaimedDelivery[];
    try {
      due = await this.repository.claimDue(BATCH, LEASE_SECONDS);
    } catch {
      return; // database away: the next tick tries again
    }
    await Promise.all(due.map((d) => this.attempt(d)));
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    let result: string;
    let ok = false;
    try {
      const body = JSON.stringify(d.payload);
      const id = `msg_${d.id}`;
      const now = new Date();
      const signature = new Webhook(decodeWebhookSecret(d.secret), { format: 'raw' }).sign(id, now, body);
      // Under the outbound policy (common/outbound-policy.ts), as probes and promotion notices are.
      const res = await postUnderPolicy(this.policy, d.url, body, {
        'content-type': 'application/json', 'user-agent': 'georoute-notifications', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature,
      }, DELIVERY_TIMEOUT_MS);
      ok = res.status >= 200 && res.status < 300;
      result = `HTTP ${res.status}`;
    } catch (err) {
      result = (err as Error).name === 'TimeoutError' ? `no answer within ${DELIVERY_TIMEOUT_MS} ms` : (err as Error).message;
    }
    const status = ok ? 'delivered' : d.attempts >= MAX_ATTEMPTS ? 'failed' : 'pending';
    if (!ok) this.logger.warn(`notification ${d.id} to ${safeUrl(d.url)} failed (attempt ${d.attempts}): ${result}${status === 'failed' ? '; giving up' : ''}`);
    try {
      await this.repository.settle(d.id, { status, lastStatus: `${result} (attempt ${d.attempts})`, retryInMs: ok ? 0 : retryDelayMs(d.attempts) });
    } catch (err) {
      // Not settled: the lease runs out and the attempt is made again (receivers de-duplicate by webhook-id).
      this.logger.warn(`cannot store the outcome of notification ${d.id}: ${(err as Error).message}`);
    }
  }
}
