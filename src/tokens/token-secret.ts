import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * API token secrets. A token reads `grt_<id>_<secret>`: the id (16 hex digits) finds the row,
 * the secret (32 random bytes, base64url) is checked against the stored scrypt hash
 * (node:crypto; N=2^14, r=8, p=1, a 16-byte salt, 32-byte key), stored as
 * `scrypt$<N>$<r>$<p>$<salt>$<hash>` so the parameters can be raised later without breaking old
 * tokens.
 */
const PREFIX = 'grt_';
const TOKEN = /^grt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;

export interface NewToken {
  readonly id: string;
  /** The whole bearer token, shown once. */
  readonly token: string;
  readonly secretHash: string;
}

/** A fresh token and the hash to store. */
export async function newToken(): Promise<NewToken> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${PREFIX}${id}_${secret}`, secretHash: await hashSecret(secret) };
}

/** The id and secret of a well-formed token, else null. */
export function parseToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN.exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}

export async function hashSecret(secret: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const key = await derive(secret, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether `secret` matches a stored hash (constant-time comparison; false for a malformed hash). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  if (![N, r, p].every(Number.isSafeInteger) || expected.length !== KEY_LENGTH) return false;
  const key = await derive(secret, salt, { N, r, p });
  return timingSafeEqual(key, expected);
}

function derive(secret: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LENGTH, { ...params, maxmem: 256 * params.N * params.r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
