import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { dnskeyRdata, dnskeyText, dnssecSign, dsText, generateDnssecKey, keyTag, openSecret, parseKeyEncryptionKey, privateKeyFromDer, sealSecret } from './dnssec-keys';

/** BIND's dnssec-dsfromkey is the reference for key tags and DS digests (bind9-utils; required). */
function dsfromkey(zone: string, dnskey: string): string {
  const tool = ['/usr/bin/dnssec-dsfromkey', '/usr/sbin/dnssec-dsfromkey'].find((p) => existsSync(p));
  if (tool === undefined) throw new Error('dnssec-dsfromkey is not installed (apt-get install bind9-utils)');
  const dir = mkdtempSync(path.join(tmpdir(), 'dsfromkey-'));
  try {
    const file = path.join(dir, 'keyset');
    writeFileSync(file, `${zone}. 3600 IN DNSKEY ${dnskey}\n`);
    return execFileSync(tool, ['-2', '-A', '-f', file, zone], { encoding: 'utf8' }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('DNSSEC key material', () => {
  test.each([13, 15] as const)('algorithm %i: key tag and SHA-256 DS agree with dnssec-dsfromkey', (algorithm) => {
    for (const flags of [257, 256]) {
      const key = generateDnssecKey(algorithm);
      expect(key.publicKey.length).toBe(algorithm === 13 ? 64 : 32);
      const text = dnskeyText(flags, algorithm, key.publicKey);
      const ours = dsText('example.com', flags, algorithm, key.publicKey);
      // "example.com. IN DS 12345 13 2 ABCD..."
      const bind = dsfromkey('example.com', text).split(/\s+/).slice(3).join(' ');
      expect(ours).toBe(bind);
      expect(Number(ours.split(' ')[0])).toBe(keyTag(dnskeyRdata(flags, algorithm, key.publicKey)));
    }
  });

  test('ECDSA signatures are r||s (64 octets, RFC 6605) and verify with the public key', () => {
    const key = generateDnssecKey(13);
    const data = randomBytes(100);
    const sig = dnssecSign(13, privateKeyFromDer(key.privateKeyDer), data);
    expect(sig.length).toBe(64);
    const pub = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: key.publicKey.subarray(0, 32).toString('base64url'), y: key.publicKey.subarray(32).toString('base64url') }, format: 'jwk' });
    expect(verify('sha256', data, { key: pub, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
    const ed = generateDnssecKey(15);
    expect(dnssecSign(15, privateKeyFromDer(ed.privateKeyDer), data).length).toBe(64);
  });

  test('sealed keys open only with the same key-encryption key and the same row id', () => {
    const kek = randomBytes(32);
    const secret = randomBytes(138);
    const sealed = sealSecret(kek, secret, 'key-1');
    expect(sealed).not.toContain(secret.toString('base64'));
    expect(openSecret(kek, sealed, 'key-1')).toEqual(secret);
    expect(() => openSecret(randomBytes(32), sealed, 'key-1')).toThrow();
    expect(() => openSecret(kek, sealed, 'key-2')).toThrow();
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA');
    expect(() => openSecret(kek, tampered, 'key-1')).toThrow();
  });

  test('the key-encryption key is 32 octets in hex or base64, else a clear error', () => {
    expect(parseKeyEncryptionKey('00'.repeat(32)).length).toBe(32);
    expect(parseKeyEncryptionKey(randomBytes(32).toString('base64')).length).toBe(32);
    expect(() => parseKeyEncryptionKey('short')).toThrow(/DNSSEC_KEY_ENCRYPTION_KEY must be 32 octets/);
  });
});
