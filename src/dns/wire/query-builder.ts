/**
 * Builds query messages octet by octet, including malformed ones (wrong counts, odd labels, bad
 * OPT/ECS), for tests, benchmarks and self-probes. Not on the query path.
 */
import { TYPE } from './constants';

export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface QueryOptions {
  readonly id?: number;
  /** Presentation name ('' = root); ignored when `rawName` is given. */
  readonly name?: string;
  /** The question name's exact wire octets (for malformed names). */
  readonly rawName?: Uint8Array;
  readonly qtype?: number;
  readonly qclass?: number;
  readonly opcode?: number;
  readonly rd?: boolean;
  /** Extra flag bits ORed into the flags word (e.g. 0x8000 QR, 0x0040 Z, 0x0020 AD, 0x0010 CD). */
  readonly extraFlags?: number;
  /** Override QDCOUNT (the question is still written once unless `omitQuestion`). */
  readonly qdcount?: number;
  readonly omitQuestion?: boolean;
  readonly edns?: {
    readonly udpSize?: number;
    readonly version?: number;
    /** The 16-bit flags (DO = 0x8000). */
    readonly flags?: number;
    readonly options?: readonly EdnsOption[];
    /** Owner name octets of the OPT (default: root). */
    readonly owner?: Uint8Array;
  };
  /** Raw records appended to the answer / authority / additional sections (counts adjusted). */
  readonly answerRecords?: readonly Uint8Array[];
  readonly authorityRecords?: readonly Uint8Array[];
  readonly additionalRecords?: readonly Uint8Array[];
  /** Octets appended after everything (not counted anywhere). */
  readonly trailing?: Uint8Array;
}

export function encodeName(name: string): Buffer {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  const parts: Buffer[] = [];
  if (n !== '') {
    for (const label of n.split('.')) {
      const b = Buffer.from(label, 'latin1');
      parts.push(Buffer.from([b.length]), b);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** An OPT RR (owner root unless given). */
export function encodeOpt(edns: NonNullable<QueryOptions['edns']>): Buffer {
  const options = (edns.options ?? []).map((o) => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(o.code, 0);
    head.writeUInt16BE(o.data.length, 2);
    return Buffer.concat([head, Buffer.from(o.data)]);
  });
  const rdata = Buffer.concat(options);
  const owner = Buffer.from(edns.owner ?? [0]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE.OPT, 0);
  fixed.writeUInt16BE(edns.udpSize ?? 1232, 2);
  fixed[4] = 0;
  fixed[5] = edns.version ?? 0;
  fixed.writeUInt16BE(edns.flags ?? 0, 6);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

/**
 * ECS option data (RFC 7871 §6). `address` octets are written as given (so tests can send too
 * many or too few); by default ceil(source / 8) octets of the parsed address.
 */
export function ecsOption(family: number, source: number, scope: number, address: Uint8Array): EdnsOption {
  const data = Buffer.alloc(4 + address.length);
  data.writeUInt16BE(family, 0);
  data[2] = source;
  data[3] = scope;
  Buffer.from(address).copy(data, 4);
  return { code: 8, data };
}

/** ECS for an IPv4 dotted quad, truncated to `source` bits. */
export function ecsIpv4(address: string, source: number, scope = 0): EdnsOption {
  const octets = address.split('.').map(Number);
  const length = (source + 7) >>> 3;
  const bytes = Buffer.from(octets.slice(0, length));
  if (source % 8 !== 0 && length > 0) bytes[length - 1] &= 0xff << (8 - (source % 8));
  return ecsOption(1, source, scope, bytes);
}

export function encodeQuery(o: QueryOptions = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(o.id ?? 0x1234, 0);
  const flags = ((o.opcode ?? 0) << 11) | (o.rd === false ? 0 : 0x0100) | (o.extraFlags ?? 0);
  header.writeUInt16BE(flags & 0xffff, 2);
  const answers = o.answerRecords ?? [];
  const authority = o.authorityRecords ?? [];
  const additional = [...(o.additionalRecords ?? [])];
  if (o.edns) additional.push(encodeOpt(o.edns));
  header.writeUInt16BE(o.qdcount ?? (o.omitQuestion ? 0 : 1), 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authority.length, 8);
  header.writeUInt16BE(additional.length, 10);
  const parts: Buffer[] = [header];
  if (!o.omitQuestion) {
    parts.push(o.rawName ? Buffer.from(o.rawName) : encodeName(o.name ?? 'example.com'));
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(o.qtype ?? TYPE.A, 0);
    tail.writeUInt16BE(o.qclass ?? 1, 2);
    parts.push(tail);
  }
  for (const r of [...answers, ...authority, ...additional]) parts.push(Buffer.from(r));
  if (o.trailing) parts.push(Buffer.from(o.trailing));
  return Buffer.concat(parts);
}

/** A raw RR: owner octets, type, class, ttl, rdata. */
export function encodeRecord(owner: Uint8Array | readonly number[], type: number, rdata: Uint8Array = Buffer.alloc(0), klass = 1, ttl = 0): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([Buffer.from(owner as Uint8Array), fixed, Buffer.from(rdata)]);
}
