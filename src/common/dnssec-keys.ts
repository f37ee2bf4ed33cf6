/**
 * DNSSEC key material: generation with node:crypto, the DNSKEY RDATA (RFC 4034 §2.1), key tags
 * (RFC 4034 Appendix B), DS digests (RFC 4509, SHA-256), and sealing of private keys with
 * AES-256-GCM for storage. No I/O: the key-encryption key is handed in by the caller.
 *
 * Algorithms: 13 = ECDSA P-256 with SHA-256 (RFC 6605: public key x||y, 64 octets; signature r||s,
 * 64 octets), 15 = Ed25519 (RFC 8080: public key 32 octets; signature 64 octets).
 */
import { createCipheriv, createDecipheriv, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

export const DNSSEC_ALGORITHMS = [13, 15] as const;
export type DnssecAlgorithm = (typeof DNSSEC_ALGORITHMS)[number];

export const ALGORITHM_NAMES: Readonly<Record<DnssecAlgorithm, string>> = { 13: 'ECDSAP256SHA256', 15: 'ED25519' };

/** DNSKEY flags: 256 = Zone Key; 257 = Zone Key + Secure Entry Point (KSK or CSK). */
export const FLAGS_ZSK = 256;
export const FLAGS_KSK = 257;

export interface GeneratedKey {
  readonly algorithm: DnssecAlgorithm;
  /** The DNSKEY public key field (x||y for P-256, the raw key for Ed25519). */
  readonly publicKey: Buffer;
  /** PKCS#8 DER of the private key. */
  readonly privateKeyDer: Buffer;
}

export function generateDnssecKey(algorithm: DnssecAlgorithm): GeneratedKey {
  if (algorithm === 13) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = publicKey.export({ format: 'jwk' });
    const x = Buffer.from(jwk.x!, 'base64url');
    const y = Buffer.from(jwk.y!, 'base64url');
    return { algorithm, publicKey: Buffer.concat([x, y]), privateKeyDer: privateKey.export({ format: 'der', type: 'pkcs8' }) };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { algorithm, publicKey: Buffer.from(jwk.x!, 'base64url'), privateKeyDer: privateKey.export({ format: 'der', type: 'pkcs8' }) };
}

/** DNSKEY RDATA: flags, protocol 3, algorithm, public key. */
export function dnskeyRdata(flags: number, algorithm: number, publicKey: Buffer): Buffer {
  const out = Buffer.alloc(4 + publicKey.length);
  out.writeUInt16BE(flags, 0);
  out[2] = 3;
  out[3] = algorithm;
  publicKey.copy(out, 4);
  return out;
}

/** RFC 4034 Appendix B key tag of a DNSKEY RDATA (algorithm 1 is not supported here). */
export function keyTag(rdata: Buffer): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

/** An owner name in canonical wire form (lower case, uncompressed). */
export function canonicalName(name: string): Buffer {
  const n = name.toLowerCase().replace(/\.$/, '');
  const parts: Buffer[] = [];
  if (n !== '') for (const label of n.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** DS digest type 2 (SHA-256) over owner || DNSKEY RDATA (RFC 4034 §5.1.4, RFC 4509). */
export function dsDigest(owner: string, rdata: Buffer): Buffer {
  return createHash('sha256').update(canonicalName(owner)).update(rdata).digest();
}

/** The DS record's presentation text: "<tag> <alg> 2 <HEX>". */
export function dsText(owner: string, flags: number, algorithm: number, publicKey: Buffer): string {
  const rdata = dnskeyRdata(flags, algorithm, publicKey);
  return `${keyTag(rdata)} ${algorithm} 2 ${dsDigest(owner, rdata).toString('hex').toUpperCase()}`;
}

/** The DNSKEY record's presentation RDATA: "<flags> 3 <alg> <base64>". */
export function dnskeyText(flags: number, algorithm: number, publicKey: Buffer): string {
  return `${flags} 3 ${algorithm} ${publicKey.toString('base64')}`;
}

/** A private key ready to sign with. */
export function privateKeyFromDer(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** Signs `data` the way the algorithm's RRSIG needs it (r||s for ECDSA, RFC 6605 §4). */
export function dnssecSign(algorithm: number, key: KeyObject, data: Buffer): Buffer {
  if (algorithm === 13) return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  return sign(null, data, key);
}

const SEAL_VERSION = 'v1';

/**
 * AES-256-GCM: "v1.<iv>.<tag>.<ciphertext>" (base64url parts). `aad` binds the sealed key to its
 * row (the zone and key id), so a sealed value copied to another row does not open.
 */
export function sealSecret(kek: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return [SEAL_VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function openSecret(kek: Buffer, sealed: string, aad: string): Buffer {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== SEAL_VERSION || body === undefined) throw new Error('sealed key: unknown format');
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}

/** A key-encryption key from text: 64 hex digits or base64 of 32 octets. */
export function parseKeyEncryptionKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('DNSSEC_KEY_ENCRYPTION_KEY must be 32 octets (64 hex digits or base64)');
  return key;
}
