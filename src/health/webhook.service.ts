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
 * Order of checks: size (413), signature with the region's own secret (or WEBHOOK_SECRET when it
 * has none; secrets read from memory, no database work before this), timestamp within 5 minutes —
 * all 401, alike whether the region exists or not — then the region (404), the body (400) and the
 * webhook id (a replay is 401). Nothing changes unless every check passed.
 */
@Injectable()
export class WebhookService {
  private readonly logger = new Logger('webhook');
  /** The refusal's own reason for the metric (the answer may show a coarser one). */
  private readonly refusals = new WeakMap<DomainError, string>();

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
      const reason = err instanceof DomainError ? (this.refusals.get(err) ?? String(err.extra.reason ?? err.code)) : 'error';
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
    // The signature is checked against secrets held in memory: no database work for a delivery
    // that is not authenticated, and every such delivery is refused alike whether the region
    // exists, has a secret, or not.
    const cached = await this.trust.cachedSecretsFor(claimed);
    const v = verifyWebhook(raw, headers, cached.secrets, Date.now());
    if (!v.ok) throw this.refuse(v.reason, v.detail);
    if (claimed === null) throw DomainError.field('region', 'required', 'must name the region (a string)');
    let known = cached.known;
    if (!known) {
      // Signed with WEBHOOK_SECRET for a region this instance has not loaded (just created
      // elsewhere?): read the registry; if the region has its own secret, only that one counts.
      const fresh = await this.trust.refreshedSecretsFor(claimed);
      known = fresh.known;
      if (known && !(fresh.secrets.length === 1 && fresh.secrets[0] === cached.secrets[0])) {
        throw this.refuse('bad-signature', `region ${claimed} has its own secret; WEBHOOK_SECRET is not accepted for it`);
      }
    }
    if (!known) throw DomainError.notFound('region', claimed);
    const body = v.payload as Record<string, unknown>;
    return this.apply(claimed, body, async () => {
      if (!(await this.trust.firstDelivery(v.webhookId, claimed))) {
        throw this.refuse('replay', `webhook-id ${v.webhookId.slice(0, 64)} was already received`);
      }
    });
  }

  /**
   * A report from a tool holding an API token with the `health:report` scope
   * (POST /v1/regions/{name}/report): the webhook's body without `region` (the path names it),
   * the same validation and the same effect; the token authenticates it instead of a signature.
   */
  async report(region: string, body: unknown) {
    const known = (await this.trust.refreshedSecretsFor(region)).known;
    if (!known) throw DomainError.notFound('region', region);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw DomainError.field('body', 'object', 'must be a JSON object');
    const fields = body as Record<string, unknown>;
    if ('region' in fields) throw DomainError.field('region', 'unknown-field', 'is named by the path, not the body');
    const out = await this.apply(region, { ...fields, region }, async () => undefined);
    this.metrics.webhooks.inc({ outcome: 'accepted-token' });
    return out;
  }

  /** The validated report's effect: the health observation, then the replication lag it carries. */
  private async apply(claimed: string, body: Record<string, unknown>, beforeEffect: () => Promise<void>) {
    const lag = parseReplicationLag(body?.metrics);
    const problems = [...checkBody(body), ...lag.problems];
    if (problems.length > 0) throw DomainError.validation(problems);
    await beforeEffect();
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

  /**
   * 401 for every unauthenticated delivery. The answer carries the failure's kind only (as
   * Standard Webhooks senders expect to debug clock skew); "no secret" is answered as a bad
   * signature, so the answer never tells which regions exist or which have a secret. The
   * detail goes to the log, the exact reason to georoute_webhooks_total.
   */
  private refuse(reason: string, detail: string): DomainError {
    const shown = reason === 'no-secret' ? 'bad-signature' : reason;
    this.logger.warn(`webhook refused (${reason}): ${detail}`);
    const error = new DomainError(ErrorCode.Unauthorized, `webhook refused: ${PUBLIC_REASON[shown] ?? shown}`, [], { reason: shown });
    this.refusals.set(error, reason);
    return error;
  }
}

const PUBLIC_REASON: Record<string, string> = {
  'missing-headers': 'webhook-id, webhook-timestamp and webhook-signature are required',
  'malformed-headers': 'a webhook header is malformed',
  'stale-timestamp': 'webhook-timestamp is more than 5 minutes away from now',
  'bad-signature': 'no signature matches',
  'invalid-body': 'the body is not UTF-8 JSON',
  'body-too-large': 'the body is too large',
  replay: 'this webhook-id was already received',
};

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
