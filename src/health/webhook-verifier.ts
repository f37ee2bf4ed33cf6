/**
 * Verifies Standard Webhooks deliveries (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${raw body}`).
 * Pure apart from the HMAC: the clock is an argument. Never throws.
 *
 * - The signature is computed with the `standardwebhooks` package and compared with
 *   crypto.timingSafeEqual on equal-length buffers. Any one valid `v1` entry in the
 *   space-separated header passes (key rotation); other versions are ignored.
 * - The body must be the raw bytes as received (verify before any JSON parsing), valid UTF-8
 *   JSON, at most 64 KiB.
 * - Timestamps more than 300 s away from `now`, either way, are stale.
 * - Replay detection is the caller's job: `webhookId` is returned for that.
 *
 * Secrets, one per region (and WEBHOOK_SECRET as the default), are decoded by
 * common/webhook-secret.ts (`whsec_<base64>` or raw, at least 24 bytes).
 */
import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { decodeWebhookSecret, webhookSecretProblem } from '../common/webhook-secret';

export type WebhookFailureReason =
  | 'missing-headers'
  | 'malformed-headers'
  | 'body-too-large'
  | 'stale-timestamp'
  | 'no-secret'
  | 'bad-signature'
  | 'invalid-body';

export type WebhookVerification =
  | {
      readonly ok: true;
      /** The parsed JSON body (shape not checked here). */
      readonly payload: unknown;
      /** The idempotency key for replay detection. */
      readonly webhookId: string;
      /** `webhook-timestamp`, seconds since the epoch. */
      readonly timestamp: number;
      /** Which of the given secrets matched (to bind the key to its region). */
      readonly secretIndex: number;
    }
  | {
      readonly ok: false;
      readonly reason: WebhookFailureReason;
      /** For logs; never echoes a secret or a signature. */
      readonly detail: string;
      readonly webhookId: string | null;
    };

/** Header values as Node gives them (IncomingHttpHeaders) or as a plain record; names are case-insensitive. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface WebhookVerifyOptions {
  readonly toleranceSeconds?: number;
  readonly maxBodyBytes?: number;
}

export const WEBHOOK_TOLERANCE_SECONDS = 300;
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;
export const WEBHOOK_MAX_SIGNATURE_HEADER_BYTES = 8 * 1024;
export const WEBHOOK_MAX_ID_LENGTH = 256;

/** The `webhook-signature` value for a delivery (for senders, tests and the demo). */
export function signWebhook(secret: string, webhookId: string, timestampSeconds: number, body: Buffer | string): string {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  return new Webhook(decodeWebhookSecret(secret), { format: 'raw' }).sign(webhookId, new Date(timestampSeconds * 1000), text);
}

export function verifyWebhook(
  rawBody: Buffer | string,
  headers: WebhookHeaders,
  secrets: readonly string[],
  now: number,
  options: WebhookVerifyOptions = {},
): WebhookVerification {
  try {
    return verify(rawBody, headers, secrets, now, options);
  } catch (error) {
    return fail('bad-signature', `verification error: ${(error as { message?: string })?.message ?? String(error)}`, null);
  }
}

function verify(
  rawBody: Buffer | string,
  headers: WebhookHeaders,
  secrets: readonly string[],
  now: number,
  options: WebhookVerifyOptions,
): WebhookVerification {
  const found = readHeaders(headers);
  if ('reason' in found) return fail(found.reason, found.detail, found.id);
  const { id, timestampText, signatures } = found;

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const maxBodyBytes = options.maxBodyBytes ?? WEBHOOK_MAX_BODY_BYTES;
  if (body.length > maxBodyBytes) return fail('body-too-large', `body is ${body.length} bytes, limit ${maxBodyBytes}`, id);

  const timestamp = Number(timestampText);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  const skew = Math.floor(now / 1000) - timestamp;
  if (Math.abs(skew) > tolerance) {
    return fail('stale-timestamp', `timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'} (tolerance ${tolerance} s)`, id);
  }

  // The library signs a string; a body that is not exact UTF-8 could not be signed faithfully.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return fail('invalid-body', 'body is not valid UTF-8', id);
  }

  const keys: { index: number; key: Uint8Array }[] = [];
  secrets.forEach((secret, index) => {
    if (webhookSecretProblem(secret) === null) keys.push({ index, key: decodeWebhookSecret(secret) });
  });
  if (keys.length === 0) return fail('no-secret', 'no usable webhook secret is configured', id);

  const offered = signatures
    .split(' ')
    .map((entry) => entry.split(','))
    .filter((parts) => parts.length === 2 && parts[0] === 'v1' && parts[1].length > 0)
    .map((parts) => Buffer.from(parts[1], 'utf8'));
  const signedAt = new Date(timestamp * 1000);
  for (const { index, key } of keys) {
    const expected = Buffer.from(new Webhook(key, { format: 'raw' }).sign(id, signedAt, text).slice('v1,'.length), 'utf8');
    const match = offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected));
    if (!match) continue;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return fail('invalid-body', 'body is not JSON', id);
    }
    return Object.freeze({ ok: true, payload, webhookId: id, timestamp, secretIndex: index });
  }
  return fail('bad-signature', offered.length === 0 ? 'no v1 signature in the header' : 'no signature matches', id);
}

type HeaderProblem = { reason: WebhookFailureReason; detail: string; id: string | null };

function readHeaders(headers: WebhookHeaders): { id: string; timestampText: string; signatures: string } | HeaderProblem {
  const lower = new Map<string, string | readonly string[] | undefined>();
  for (const [name, value] of Object.entries(headers ?? {})) lower.set(name.toLowerCase(), value);
  const values: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = lower.get(name);
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
      return { reason: 'missing-headers', detail: `${name} header is missing`, id: null };
    }
    if (typeof value !== 'string') return { reason: 'malformed-headers', detail: `${name} header is repeated`, id: null };
    values[name] = value;
  }
  const id = values['webhook-id'];
  if (id.length > WEBHOOK_MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(id) || id.includes('.')) {
    return { reason: 'malformed-headers', detail: 'webhook-id must be 1-256 printable characters without "."', id: null };
  }
  const timestampText = values['webhook-timestamp'];
  if (!/^\d{1,12}$/.test(timestampText)) {
    return { reason: 'malformed-headers', detail: 'webhook-timestamp must be whole seconds since the epoch', id };
  }
  const signatures = values['webhook-signature'];
  if (Buffer.byteLength(signatures, 'utf8') > WEBHOOK_MAX_SIGNATURE_HEADER_BYTES) {
    return { reason: 'malformed-headers', detail: `webhook-signature is longer than ${WEBHOOK_MAX_SIGNATURE_HEADER_BYTES} bytes`, id };
  }
  return { id, timestampText, signatures };
}

function fail(reason: WebhookFailureReason, detail: string, webhookId: string | null): WebhookVerification {
  return Object.freeze({ ok: false, reason, detail, webhookId });
}
