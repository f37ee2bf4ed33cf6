/**
 * Build-time encoder: turns records into wire-format RR bytes laid out for a known position in a
 * reply. Used only when a zone view is built (off the hot path), so clarity wins over speed.
 *
 * A `RecordWriter` knows the message offset its first byte will land at and which names already
 * sit at known offsets before it (the question name at offset 12, or a zone apex inside it). Names
 * it writes are compressed against those (RFC 1035 §4.1.4): only backward pointers are produced,
 * so a writer's output can be cut after any record (e.g. dropping the additional section) and
 * stay valid.
 */
import ipaddr from 'ipaddr.js';
import { MODERN_TYPE_CODES, modernRdata, type ModernRecordType } from '../../common/modern-records';
import { MAX_LABEL_LENGTH, MAX_NAME_WIRE_LENGTH, TYPE } from './constants';

/** Labels of a presentation name without the trailing dot ('' = root = no labels). */
export function nameLabels(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n === '' ? [] : n.split('.');
}

/** Octets the name takes on the wire, uncompressed (root octet included). */
export function nameWireLength(name: string): number {
  let total = 1;
  for (const label of nameLabels(name)) total += 1 + Buffer.byteLength(label, 'latin1');
  return total;
}

/** Throws when a name cannot be encoded (empty label, label > 63, name > 255). */
export function checkEncodable(name: string): void {
  const labels = nameLabels(name);
  for (const label of labels) {
    if (label.length === 0) throw new Error(`name "${name}" has an empty label`);
    if (label.length > MAX_LABEL_LENGTH) throw new Error(`name "${name}" has a label longer than 63 octets`);
  }
  if (nameWireLength(name) > MAX_NAME_WIRE_LENGTH) throw new Error(`name "${name}" is longer than 255 octets`);
}

export class RecordWriter {
  private buf = Buffer.alloc(512);
  private length = 0;
  /** Lower-case name -> message offset where it (as a suffix) is written. */
  private readonly known = new Map<string, number>();
  private count = 0;

  /**
   * @param base message offset of this writer's first octet.
   * @param compress false: every name is written in full (for bytes reused at varying offsets).
   */
  constructor(
    private readonly base: number,
    private readonly compress = true,
  ) {}

  /** Declares that `name` is written at message offset `offset` (registers all its suffixes). */
  knownName(name: string, offset: number): this {
    const labels = nameLabels(name.toLowerCase());
    let o = offset;
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      if (!this.known.has(suffix) && o < 0x4000) this.known.set(suffix, o);
      o += 1 + labels[i].length;
    }
    return this;
  }

  /** Message offset of a name already written or declared, if any. */
  offsetOf(name: string): number | undefined {
    return this.known.get(name.toLowerCase());
  }

  get size(): number {
    return this.length;
  }

  /** Number of records written. */
  get records(): number {
    return this.count;
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }

  /** Bytes written from `from` (a previous `size`) on. */
  slice(from: number, to = this.length): Buffer {
    return Buffer.from(this.buf.subarray(from, to));
  }

  /**
   * Writes one RR: owner (a name, or a message offset to point at), type, class IN, ttl and the
   * rdata produced by `rdata`.
   */
  record(owner: string | number, type: number, ttl: number, rdata: (w: RecordWriter) => void): void {
    if (typeof owner === 'number') this.u16(0xc000 | owner);
    else this.name(owner);
    this.u16(type);
    this.u16(1);
    this.u32(ttl);
    const lengthAt = this.length;
    this.u16(0);
    rdata(this);
    this.buf.writeUInt16BE(this.length - lengthAt - 2, lengthAt);
    this.count++;
  }

  /** A name given in presentation form, or as its labels (a label may then contain '.'). */
  name(name: string | readonly string[]): void {
    const compress = this.compress;
    const labels = typeof name === 'string' ? nameLabels(name) : name;
    const lower = labels.map((l) => l.toLowerCase());
    for (let i = 0; i < labels.length; i++) {
      // A label holding '.' would alias another name in the suffix map: never share those.
      const suffix = lower.slice(i).some((l) => l.includes('.')) ? null : lower.slice(i).join('.');
      const at = compress && suffix !== null ? this.known.get(suffix) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      const here = this.base + this.length;
      if (compress && suffix !== null && here < 0x4000) this.known.set(suffix, here);
      const raw = Buffer.from(labels[i], 'latin1');
      if (raw.length === 0 || raw.length > MAX_LABEL_LENGTH) throw new Error(`bad label in "${labels.join('.')}"`);
      this.u8(raw.length);
      this.raw(raw);
    }
    this.u8(0);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** A <character-string>: one length octet and at most 255 octets. */
  characterString(b: Uint8Array): void {
    if (b.length > 255) throw new Error('character-string longer than 255 octets');
    this.u8(b.length);
    this.raw(b);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

/** Clamps a TTL into 0..2^31-1 (RFC 2181 §8). */
export function clampTtl(ttl: number): number {
  if (!Number.isFinite(ttl) || ttl < 0) return 0;
  return Math.min(Math.floor(ttl), 0x7fffffff);
}

export function ipv4Bytes(text: string): Buffer {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) throw new Error(`"${text}" is not an IPv4 address`);
  return Buffer.from(ipaddr.IPv4.parse(text).toByteArray());
}

export function ipv6Bytes(text: string): Buffer {
  if (!ipaddr.IPv6.isValid(text)) throw new Error(`"${text}" is not an IPv6 address`);
  return Buffer.from(ipaddr.IPv6.parse(text).toByteArray());
}

/**
 * TXT value -> character-strings. A value written as one or more quoted strings
 * ('"v=spf1 -all"', '"part one" "part two"', with \" and \\ escapes) is read as those strings;
 * any other value is the text itself. Either way each string is split into 255-octet pieces.
 */
export function txtStrings(value: string): Buffer[] {
  const pieces: Buffer[] = [];
  const quoted = parseQuotedStrings(value);
  const texts = quoted ?? [value];
  for (const text of texts) {
    const b = Buffer.from(text, 'utf8');
    if (b.length === 0) {
      pieces.push(b);
      continue;
    }
    for (let i = 0; i < b.length; i += 255) pieces.push(b.subarray(i, Math.min(i + 255, b.length)));
  }
  return pieces;
}

function parseQuotedStrings(value: string): string[] | null {
  const v = value.trim();
  if (!v.startsWith('"')) return null;
  const out: string[] = [];
  let i = 0;
  while (i < v.length) {
    if (v[i] === ' ' || v[i] === '\t') {
      i++;
      continue;
    }
    if (v[i] !== '"') return null;
    let s = '';
    i++;
    for (;;) {
      if (i >= v.length) return null;
      const c = v[i];
      if (c === '\\' && i + 1 < v.length) {
        s += v[i + 1];
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        break;
      }
      s += c;
      i++;
    }
    out.push(s);
  }
  return out.length > 0 ? out : null;
}

/** "10 mail.example.com" -> [10, "mail.example.com"]. */
export function parseMx(value: string): { preference: number; exchange: string } {
  const m = /^\s*(\d{1,5})\s+(\S+)\s*$/.exec(value);
  if (!m || Number(m[1]) > 65535) throw new Error(`MX value "${value}" is not "<preference> <exchange>"`);
  const exchange = m[2] === '.' ? '' : m[2].replace(/\.$/, '').toLowerCase();
  if (exchange !== '') checkEncodable(exchange);
  return { preference: Number(m[1]), exchange };
}

/** '0 issue "letsencrypt.org"' -> flags, tag, value (RFC 8659 §4.1). */
export function parseCaa(value: string): { flags: number; tag: string; value: Buffer } {
  const m = /^\s*(\d{1,3})\s+([A-Za-z0-9]{1,15})\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/.exec(value);
  if (!m || Number(m[1]) > 255) throw new Error(`CAA value "${value}" is not '<flags> <tag> "<value>"'`);
  const text = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4];
  return { flags: Number(m[1]), tag: m[2].toLowerCase(), value: Buffer.from(text, 'utf8') };
}

/** Target of a CNAME or NS value, lower case, no trailing dot. */
export function parseTarget(value: string): string {
  const t = value.trim().replace(/\.$/, '').toLowerCase();
  if (t === '') throw new Error('empty target name');
  checkEncodable(t);
  return t;
}

/** Writes the rdata of a static record value of `type` (one of the API's types). */
export function writeRdata(w: RecordWriter, type: number, value: string): void {
  switch (type) {
    case TYPE.A:
      w.raw(ipv4Bytes(value.trim()));
      return;
    case TYPE.AAAA:
      w.raw(ipv6Bytes(value.trim()));
      return;
    case TYPE.CNAME:
    case TYPE.NS:
      w.name(parseTarget(value));
      return;
    case TYPE.MX: {
      const mx = parseMx(value);
      w.u16(mx.preference);
      w.name(mx.exchange);
      return;
    }
    case TYPE.TXT:
      for (const piece of txtStrings(value)) w.characterString(piece);
      return;
    case TYPE.CAA: {
      const caa = parseCaa(value);
      w.u8(caa.flags);
      w.characterString(Buffer.from(caa.tag, 'latin1'));
      w.raw(caa.value);
      return;
    }
    default: {
      const modern = MODERN_TYPE_BY_CODE.get(type);
      if (modern === undefined) throw new Error(`unsupported record type ${type}`);
      w.raw(modernRdata(modern, value)); // names uncompressed (RFC 2782, 3403, 9460)
    }
  }
}

/** SRV, HTTPS, SVCB, TLSA, PTR, NAPTR, DS by type code (common/modern-records.ts encodes them). */
export const MODERN_TYPE_BY_CODE: ReadonlyMap<number, ModernRecordType> = new Map(
  Object.entries(MODERN_TYPE_CODES).map(([name, code]) => [code, name as ModernRecordType]),
);

/** Canonical bytes of a value (uncompressed rdata): used to drop duplicate RRs (RFC 2181 §5). */
export function rdataKey(type: number, value: string): string {
  const w = new RecordWriter(0, false);
  writeRdata(w, type, value);
  return w.bytes().toString('hex');
}
