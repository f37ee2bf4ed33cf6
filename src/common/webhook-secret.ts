/**
 * Webhook signing secrets (Standard Webhooks), for every place that accepts or uses one: the
 * WEBHOOK_SECRET variable, a region's webhookSecret, a service's replication.notifySecret, and
 * the verifier and signer in health/webhook-verifier.ts.
 *
 * A secret has one of two forms:
 * - `whsec_<base64>`: the Standard Webhooks form; the key is the base64-decoded bytes.
 * - anything else: a raw secret; the key is its UTF-8 bytes (the same as the Standard Webhooks
 *   form `whsec_` + base64(UTF-8 bytes)).
 * Keys must be at least 24 bytes (192 bits), as the spec asks.
 */
export const MIN_WEBHOOK_SECRET_BYTES = 24;
const SECRET_PREFIX = 'whsec_';

/** The key bytes of a secret; throws an Error saying what is wrong with it. */
export function decodeWebhookSecret(secret: string): Uint8Array {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('webhook secret is empty');
  let key: Buffer;
  if (secret.startsWith(SECRET_PREFIX)) {
    const encoded = secret.slice(SECRET_PREFIX.length);
    key = Buffer.from(encoded, 'base64');
    const canonical = (text: string) => text.replace(/=+$/, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || canonical(key.toString('base64')) !== canonical(encoded)) {
      throw new Error('webhook secret: whsec_ must be followed by standard base64');
    }
  } else {
    key = Buffer.from(secret, 'utf8');
  }
  if (key.length < MIN_WEBHOOK_SECRET_BYTES) {
    throw new Error(`webhook secret must be at least ${MIN_WEBHOOK_SECRET_BYTES} bytes, got ${key.length}`);
  }
  return new Uint8Array(key);
}

/** What is wrong with a secret, or null when it is usable (for configuration and API validation). */
export function webhookSecretProblem(secret: string): string | null {
  try {
    decodeWebhookSecret(secret);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
