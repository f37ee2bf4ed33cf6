import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { OutboundPolicy, OUTBOUND_POLICY_ERROR, postUnderPolicy, urlForLogs as safeUrl } from '../common/outbound-policy';
import { APP_CONFIG, AppConfig } from '../config/config';
import { signWebhook } from '../health/webhook-verifier';
import type { PromotionEventResponse } from './promotion.types';
import { ReplicationRepository } from './replication.repository';

/** Delays before each delivery attempt: at once, then after 1 s, 5 s and 30 s. */
export const NOTIFY_ATTEMPT_DELAYS_MS: readonly number[] = [0, 1000, 5000, 30_000];
export const NOTIFY_TIMEOUT_MS = 5000;
export const PROMOTION_EVENT_TYPE = 'replication.promoted';

/** The body of a promotion notification (Standard Webhooks payload shape: type, timestamp, data). */
export interface PromotionNotification {
  type: typeof PROMOTION_EVENT_TYPE;
  timestamp: string;
  data: Omit<PromotionEventResponse, 'notification'> & { writeFqdn: string | null };
}

export function notificationOf(event: PromotionEventResponse, writeFqdn: string | null): PromotionNotification {
  return {
    type: PROMOTION_EVENT_TYPE,
    timestamp: event.at,
    data: {
      id: event.id,
      service: event.service,
      from: event.from,
      to: event.to,
      trigger: event.trigger,
      forced: event.forced,
      dataLossWindowMs: event.dataLossWindowMs,
      reason: event.reason,
      at: event.at,
      writeFqdn,
      instance: event.instance,
    },
  };
}

/**
 * Sends promotion notifications to the service's replication.notifyUrl, signed per Standard
 * Webhooks (webhook-id = "promotion_<event id>", the same on every attempt so receivers can
 * de-duplicate; webhook-timestamp and webhook-signature fresh per attempt). A 2xx answer is a
 * delivery; anything else is retried (NOTIFY_ATTEMPT_DELAYS_MS). Redirects are not followed.
 * Deliveries go out under the outbound policy (OUTBOUND_ALLOW; checked on the resolved address,
 * the one connected to): a refused address is a failed attempt saying so.
 * The outcome is stored on the promotion event (notified_at, notify_status).
 */
@Injectable()
export class PromotionNotifier implements OnApplicationShutdown {
  private readonly logger = new Logger('replication');
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly policy: OutboundPolicy;

  constructor(
    private readonly repository: ReplicationRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.policy = new OutboundPolicy(config.outboundAllow);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Starts delivery in the background; resolves when it succeeded or every attempt failed. */
  send(event: PromotionEventResponse, url: string, secret: string, writeFqdn: string | null): Promise<boolean> {
    const body = JSON.stringify(notificationOf(event, writeFqdn));
    const webhookId = `promotion_${event.id}`;
    return this.attempt(event.id, url, secret, webhookId, body, 0);
  }

  private async attempt(eventId: number, url: string, secret: string, webhookId: string, body: string, n: number): Promise<boolean> {
    if (this.stopped) return false;
    const delay = NOTIFY_ATTEMPT_DELAYS_MS[n];
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.timers.delete(t);
          resolve();
        }, delay);
        t.unref();
        this.timers.add(t);
      });
      if (this.stopped) return false;
    }
    let status: string;
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const res = await this.post(url, body, {
        'content-type': 'application/json',
        'user-agent': 'georoute-replication',
        'webhook-id': webhookId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, webhookId, timestamp, body),
      });
      if (res.status >= 200 && res.status < 300) {
        await this.record(eventId, `delivered (HTTP ${res.status}, attempt ${n + 1})`, true);
        return true;
      }
      status = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      status = e.name === 'TimeoutError' ? `no answer within ${NOTIFY_TIMEOUT_MS} ms` : e.code === OUTBOUND_POLICY_ERROR ? e.message : `network error (${e.code ?? e.name})`;
    }
    const last = n + 1 >= NOTIFY_ATTEMPT_DELAYS_MS.length;
    this.logger.warn(`promotion notification ${webhookId} to ${safeUrl(url)} failed (attempt ${n + 1}): ${status}${last ? '; giving up' : ''}`);
    await this.record(eventId, `failed (${status}, attempt ${n + 1}${last ? ', gave up' : ''})`, false);
    return last ? false : this.attempt(eventId, url, secret, webhookId, body, n + 1);
  }

  private post(urlText: string, body: string, headers: Record<string, string>): Promise<{ status: number }> {
    return postUnderPolicy(this.policy, urlText, body, headers, NOTIFY_TIMEOUT_MS);
  }

  private async record(eventId: number, status: string, delivered: boolean): Promise<void> {
    try {
      await this.repository.recordNotification(eventId, status, delivered);
    } catch (err) {
      this.logger.warn(`cannot record the notification status of promotion ${eventId}: ${(err as Error).message}`);
    }
  }
}
