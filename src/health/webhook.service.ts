import { Injectable, Logger } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError, ErrorCode, FieldProblem } from '../common/domain-error';
import { EventBus, REPLICATION_LAG_REPORTED } from '../common/events';
import { MetricsService } from '../metrics/metrics.service';
import { HealthService } from './health.service';
import { parseReplicationLag } from './lag-format';
import { WebhookTrust } from './webhook-trust';
import { verifyWebhook } from './webhook-verifier';

export const WEBHOOK_BODY_LIMIT = 16 * 1024;
const BODY_FIELDS = new Set(['region', 'status', 'observedAt', 'reason', 'metrics']);

/**
 * Order of checks: size (413), signature with the region's secret or WEBHOOK_SECRET, timestamp
 * within 5 minutes, then the webhook id (a replay is refused) — all 401 — then the region (404)
 * and the body (400). Nothing changes unless every check passed.
 */
@Injectable()
export class WebhookService {
  private readonly logger = new Logger('webhook');

  constructor(
    private readonly health: HealthService,
    private readonly trust: WebhookTrust,
    private readonly metrics: MetricsService,
    private readonly events: EventBus,
  ) {}

  /** Counts every delivery by outcome: accepted, or why it was refused. */
  async receive(raw: Buffer | undefined, headers: IncomingHttpHeaders) {
    try {
      const out = await this.check(raw, headers);
      this.metrics.webhooks.inc({ outcome: 'accepted' });
      return out;
    } catch (err) {
      const reason = err instanceof DomainError ? String(err.extra.reason ?? err.code) : 'error';
      this.metrics.webhooks.inc({ outcome: reason });
      throw err;
    }
  }

  private async check(raw: Buffer | undefined, headers: IncomingHttpHeaders) {
    if (raw === undefined) {
      throw DomainError.field('body', 'content-type', 'must be a JSON document sent as application/json');
    }
    if (raw.length > WEBHOOK_BODY_LIMIT) {
      throw new DomainError(ErrorCode.PayloadTooLarge, `webhook body is ${raw.length} bytes; the limit is ${WEBHOOK_BODY_LIMIT}`);
    }
    let claimed: string | null = null;
    try {
      const parsed = JSON.parse(raw.toString('utf8'));
      if (parsed && typeof parsed.region === 'string') claimed = parsed.region;
    } catch {
      claimed = null;
    }
    const { known, secrets } = await this.trust.secretsFor(claimed);
    if (secrets.length === 0) {
      if (!known && claimed !== null) throw DomainError.notFound('region', claimed);
      throw this.refuse('no-secret', `no webhook secret is configured for region ${claimed ?? '(none named)'}`);
    }
    const v = verifyWebhook(raw, headers, secrets, Date.now());
    if (!v.ok) throw this.refuse(v.reason, v.detail);
    if (claimed === null) throw DomainError.field('region', 'required', 'must name the region (a string)');
    if (!known) throw DomainError.notFound('region', claimed);
    const body = v.payload as Record<string, unknown>;
    const lag = parseReplicationLag(body?.metrics);
    const problems = [...checkBody(body), ...lag.problems];
    if (problems.length > 0) throw DomainError.validation(problems);
    if (!(await this.trust.firstDelivery(v.webhookId, claimed))) {
      throw this.refuse('replay', `webhook-id ${v.webhookId.slice(0, 64)} was already received`);
    }
    const state = await this.health.onWebhook(
      claimed,
      body.status === 'healthy',
      typeof body.reason === 'string' ? body.reason : null,
      body.metrics as Record<string, unknown> | undefined,
    );
    // The replication module records the lag (and never fails the delivery).
    if (lag.report !== null) await this.events.emitAndWait(REPLICATION_LAG_REPORTED, { region: claimed, report: lag.report, at: Date.now() });
    return {
      region: claimed,
      accepted: true,
      status: state.status,
      since: new Date(state.since).toISOString(),
      reason: state.reason,
    };
  }

  private refuse(reason: string, detail: string): DomainError {
    this.logger.warn(`webhook refused (${reason}): ${detail}`);
    return new DomainError(ErrorCode.Unauthorized, `webhook refused: ${reason}: ${detail}`, [], { reason });
  }
}

function checkBody(body: Record<string, unknown>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [{ field: 'body', rule: 'object', message: 'must be a JSON object' }];
  }
  for (const key of Object.keys(body)) {
    if (!BODY_FIELDS.has(key)) problems.push({ field: key, rule: 'unknown-field', message: 'is not a known field' });
  }
  if (body.status !== 'healthy' && body.status !== 'unhealthy') {
    problems.push({ field: 'status', rule: 'enum', message: 'must be "healthy" or "unhealthy"' });
  }
  if (body.observedAt !== undefined && (typeof body.observedAt !== 'string' || Number.isNaN(Date.parse(body.observedAt)))) {
    problems.push({ field: 'observedAt', rule: 'date-time', message: 'must be an RFC 3339 date-time' });
  }
  if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 500)) {
    problems.push({ field: 'reason', rule: 'string', message: 'must be a string of at most 500 characters' });
  }
  if (body.metrics !== undefined && (typeof body.metrics !== 'object' || body.metrics === null || Array.isArray(body.metrics))) {
    problems.push({ field: 'metrics', rule: 'object', message: 'must be an object' });
  }
  return problems;
}
