/**
 * Online DNSSEC signing of one zone (RFC 4033-4035): RRSIG RDATA over RRsets in canonical form
 * (RFC 4034 §6), the zone's DNSKEY / CDS / CDNSKEY RDATA, and the NSEC RDATA of compact denial
 * of existence (RFC 9824). Used when a zone view is built (positive answers, signed once per
 * answer variant) and for negative answers (signed per name, cached by the view).
 *
 * Inputs: the zone's DnssecKeySnap list (private keys sealed; opened here with the key-encryption
 * key), the signature validity window and the inception backdating, and the clock at build time.
 * Outputs: Buffers of RDATA; the caller writes owner, type, class and TTL around them.
 */
import type { KeyObject } from 'node:crypto';
import { FLAGS_KSK, canonicalName, dnskeyRdata, dsDigest, keyTag, dnssecSign, openSecret, privateKeyFromDer } from '../common/dnssec-keys';
import type { ZoneDnssecSnap } from '../routing/types';
import { TYPE } from './wire/constants';

export const TYPE_RRSIG = 46;
export const TYPE_NSEC = 47;
export const TYPE_DNSKEY = 48;
export const TYPE_CDS = 59;
export const TYPE_CDNSKEY = 60;
/** RFC 9824: the pseudo-type marking a name that does not exist in a compact denial NSEC. */
export const TYPE_NXNAME = 128;

/** How signatures are made: the key-encryption key and the validity window (config). */
export interface DnssecSettings {
  readonly kek: Buffer;
  /** RRSIG expiration = now + this. */
  readonly validitySeconds: number;
  /** RRSIG inception = now - this (clock skew between us and validators). */
  readonly inceptionOffsetSeconds: number;
  /** Clock in ms (tests move it). */
  readonly now?: () => number;
  /**
   * Signatures per second this process makes on the query path (compact denials and wildcard
   * answers for names not seen yet); over it such a query is answered SERVFAIL. 0 = no limit.
   */
  readonly onlineSignaturesPerSecond?: number;
}

/**
 * Signatures (RRSIGs) made by this process, by where: ahead of queries by the pre-signer, or on
 * the query path (answers not prepared, compact denials, wildcard answers). The pre-signer sets
 * `inBackground` while it works.
 */
export class SignatureCounter {
  background = 0;
  query = 0;
  inBackground = false;

  add(n: number): void {
    if (this.inBackground) this.background += n;
    else this.query += n;
  }
}

interface SigningKey {
  readonly algorithm: number;
  readonly tag: number;
  readonly key: KeyObject;
}

export class ZoneSigner {
  /** The zone apex in canonical wire form (the RRSIG signer's name). */
  readonly signerName: Buffer;
  readonly inception: number;
  readonly expiration: number;
  /** DNSKEY RDATA of every published key (published, active, retired). */
  readonly dnskeys: readonly Buffer[];
  /** CDS / CDNSKEY RDATA (RFC 7344), the delete form while unsigning (RFC 8078 §4). */
  readonly cds: readonly Buffer[];
  readonly cdnskeys: readonly Buffer[];
  /** Keys that sign the DNSKEY, CDS and CDNSKEY RRsets (active SEP keys). */
  private readonly keySigners: readonly SigningKey[];
  /** Keys that sign every other RRset (active ZSKs, else active CSKs). */
  private readonly zoneSigners: readonly SigningKey[];

  constructor(
    readonly zone: string,
    snap: ZoneDnssecSnap,
    settings: DnssecSettings,
    private readonly counter: SignatureCounter | null = null,
  ) {
    this.signerName = canonicalName(zone);
    const now = Math.floor((settings.now?.() ?? Date.now()) / 1000);
    this.inception = (now - settings.inceptionOffsetSeconds) >>> 0;
    this.expiration = (now + settings.validitySeconds) >>> 0;
    const dnskeys: Buffer[] = [];
    const keySigners: SigningKey[] = [];
    const zoneSigners: SigningKey[] = [];
    const cds: Buffer[] = [];
    const cdnskeys: Buffer[] = [];
    for (const k of snap.keys) {
      const rdata = dnskeyRdata(k.flags, k.algorithm, Buffer.from(k.publicKey, 'base64'));
      dnskeys.push(rdata);
      if (snap.status === 'signed' && k.cds && k.flags === FLAGS_KSK) {
        cdnskeys.push(rdata);
        const digest = dsDigest(zone, rdata);
        const ds = Buffer.alloc(4 + digest.length);
        ds.writeUInt16BE(keyTag(rdata), 0);
        ds[2] = k.algorithm;
        ds[3] = 2;
        digest.copy(ds, 4);
        cds.push(ds);
      }
      // Active keys sign; a retired SEP key keeps signing the DNSKEY RRset until it is removed, so
      // a resolver still holding only the old DS validates throughout a KSK/CSK rollover.
      const signsKeys = k.role !== 'zsk' && (k.state === 'active' || k.state === 'retired');
      const signsZone = k.role !== 'ksk' && k.state === 'active';
      if (!signsKeys && !signsZone) continue;
      const signing: SigningKey = { algorithm: k.algorithm, tag: keyTag(rdata), key: privateKeyFromDer(openSecret(settings.kek, k.privateKeySealed, k.id)) };
      if (signsKeys) keySigners.push(signing);
      if (signsZone) zoneSigners.push(signing);
    }
    if (snap.status === 'unsigning') {
      // RFC 8078 §4: CDS 0 0 0 00 and CDNSKEY 0 3 0 AA== ask the parent to remove the DS.
      cds.push(Buffer.from([0, 0, 0, 0, 0]));
      cdnskeys.push(Buffer.from([0, 0, 3, 0, 0]));
    }
    if (keySigners.length === 0 || zoneSigners.length === 0) throw new Error(`zone ${zone}: DNSSEC without an active signing key`);
    this.dnskeys = dnskeys;
    this.cds = cds;
    this.cdnskeys = cdnskeys;
    this.keySigners = keySigners;
    this.zoneSigners = zoneSigners;
  }

  /**
   * RRSIG RDATA over one RRset: `owner` in canonical wire form, RDATA of each RR in canonical
   * form (names uncompressed, lower case where RFC 4034 §6.2 says so: the caller's job). One
   * RRSIG per signing key (DNSKEY/CDS/CDNSKEY: the SEP keys; else the zone keys).
   */
  sign(owner: Buffer, type: number, ttl: number, rdatas: readonly Buffer[]): Buffer[] {
    const signers = type === TYPE_DNSKEY || type === TYPE_CDS || type === TYPE_CDNSKEY ? this.keySigners : this.zoneSigners;
    const labels = labelCount(owner);
    // RFC 4034 §6.3: RRs sorted by RDATA as unsigned octet strings; duplicates removed (§6.3).
    const sorted = [...rdatas].sort(Buffer.compare).filter((r, i, all) => i === 0 || !r.equals(all[i - 1]));
    let rrLength = 0;
    for (const r of sorted) rrLength += owner.length + 10 + r.length;
    const out: Buffer[] = [];
    for (const s of signers) {
      const head = Buffer.alloc(18 + this.signerName.length);
      head.writeUInt16BE(type, 0);
      head[2] = s.algorithm;
      head[3] = labels;
      head.writeUInt32BE(ttl >>> 0, 4);
      head.writeUInt32BE(this.expiration, 8);
      head.writeUInt32BE(this.inception, 12);
      head.writeUInt16BE(s.tag, 16);
      this.signerName.copy(head, 18);
      const data = Buffer.alloc(head.length + rrLength);
      head.copy(data, 0);
      let o = head.length;
      for (const r of sorted) {
        o += owner.copy(data, o);
        data.writeUInt16BE(type, o);
        data.writeUInt16BE(1, o + 2);
        data.writeUInt32BE(ttl >>> 0, o + 4);
        data.writeUInt16BE(r.length, o + 8);
        o += 10;
        o += r.copy(data, o);
      }
      out.push(Buffer.concat([head, dnssecSign(s.algorithm, s.key, data)]));
    }
    this.counter?.add(out.length);
    return out;
  }
}

/** Labels of a canonical wire name, not counting the root nor a leading "*" (RFC 4034 §3.1.3). */
function labelCount(wire: Buffer): number {
  let n = 0;
  let o = 0;
  while (wire[o] !== 0) {
    n++;
    o += wire[o] + 1;
  }
  if (n > 0 && wire[0] === 1 && wire[1] === 0x2a) n--;
  return n;
}

/** NSEC type bitmap (RFC 4034 §4.1.2) of `types`. */
export function typeBitmap(types: Iterable<number>): Buffer {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const parts: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const window = sorted[i] >> 8;
    const bits = new Uint8Array(32);
    let max = 0;
    while (i < sorted.length && sorted[i] >> 8 === window) {
      const low = sorted[i] & 0xff;
      bits[low >> 3] |= 0x80 >> (low & 7);
      max = Math.max(max, (low >> 3) + 1);
      i++;
    }
    parts.push(window, max, ...bits.subarray(0, max));
  }
  return Buffer.from(parts);
}

/**
 * Compact denial NSEC RDATA (RFC 9824 §3): next name = "\000." + the name, the bitmap of the
 * types present (or NXNAME for a name that does not exist), always with RRSIG and NSEC.
 */
export function compactNsecRdata(ownerCanonical: Buffer, types: readonly number[] | null): Buffer {
  const bitmap = typeBitmap(types === null ? [TYPE_RRSIG, TYPE_NSEC, TYPE_NXNAME] : [...types, TYPE_RRSIG, TYPE_NSEC]);
  return Buffer.concat([Buffer.from([1, 0]), ownerCanonical, bitmap]);
}

/** A name's wire octets (as in a message, uncompressed) lowered to canonical form (RFC 4034 §6.2). */
export function lowerWireName(msg: Uint8Array, start: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    const c = msg[start + i];
    out[i] = c >= 0x41 && c <= 0x5a ? c + 32 : c;
  }
  // Length octets are < 64, never in A-Z: lowering every octet leaves them as they are.
  return out;
}

/** TYPE codes of static data that carry names in their RDATA (already lower case from the encoder). */
export const NAME_BEARING: ReadonlySet<number> = new Set([TYPE.NS, TYPE.CNAME, TYPE.MX, TYPE.SOA, TYPE.PTR, TYPE.SRV, TYPE.NAPTR]);
