/**
 * DNS wire fuzzer for georoute: mutated and random packets over real UDP and TCP sockets on
 * 127.0.0.1, every reply checked with a second decoder (dns-packet).
 *
 * Two ways to run it:
 * - as a module with a main (`bench/fuzz.sh`, which compiles this file alone into dist/):
 *     node dist/test/fuzz/dns-fuzz.js [--packets 1000000] [--seconds 600] [--seed 1]
 *   starts georoute as a real process (dist/src/main.js, embedded database, DATA_DIR under
 *   bench/out/), fuzzes it, samples its RSS from /proc/PID/status, greps its output, and exits 1
 *   when a check fails. `--port P` fuzzes a server that is already running instead.
 * - in-process from Jest (`test/fuzz/dns-fuzz.e2e-spec.ts`): `runFuzz({ port }, options)`.
 *
 * Corpus (seeded PRNG, deterministic per worker): queries built here (not with src/ code) for
 * the demo zone and outside it, mixed-case names, every QTYPE of interest (A ... CAA, ANY, AXFR,
 * IXFR, OPT, TSIG, TKEY, 0, 65535, random), classes IN/CH/HS/NONE/ANY/random, OPCODEs, QDCOUNT
 * 0/1/2, EDNS versions 0/1/255, UDP sizes 0..65535, DO, options (ECS v4/v6 with valid and invalid
 * prefixes, cookies, padding, keepalive, EDE, unknown codes, duplicates), extra records (TSIG,
 * OPT in the wrong section, non-root OPT owner, two OPTs). Mutations: bit flips, interesting
 * bytes, byte insertions/deletions, truncation, duplicated ranges, splices, header count and
 * length field corruption (label lengths, RDLENGTH, option lengths), compression pointers (self,
 * forward, into the header, past the end, two-pointer loops, chains); plus random garbage and
 * random bodies behind a plausible header. TCP: sessions of pipelined messages with correct,
 * corrupted, zero or random framing, written in one piece, per frame, or in random (down to
 * one-octet) chunks.
 *
 * Checks, counted with samples (hex) per kind:
 * - a UDP message of >= 12 octets with QR = 0 gets exactly one reply; shorter ones or QR = 1 get
 *   none (README: "nothing for a message shorter than 12 octets or with QR = 1");
 * - every reply decodes with dns-packet, and the decoder consumes exactly the reply's length;
 *   QR = 1; ID = the query's ID; OPCODE = the query's; the question, when present, is the
 *   query's own octets; no TC over TCP;
 * - UDP: reply <= 10 x request (amplification) and <= 512 without OPT / <= 1232 with;
 * - TCP: the server's framing is simulated on the exact byte stream sent, so the replies expected
 *   (and whether the server must close) are known: replies arrive in order, none missing (unless
 *   the server reset the connection after a closing frame), no extra ones, no connection open
 *   after 5 s;
 * - probes every 2 s (a normal query over UDP and TCP) must be answered correctly;
 * - at the end the server answers a normal query correctly over UDP and TCP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as dnsPacket from 'dns-packet';
import { sendTcp, sendUdp } from '../support/dns-client';

// ----------------------------------------------------------------------------------------------
// Seeded PRNG (sfc32 seeded through splitmix32)

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

// ----------------------------------------------------------------------------------------------
// Wire building (independent of src/dns)

interface Field {
  off: number;
  size: 1 | 2;
}

/** A built message and where its length-like fields and names are (for targeted mutations). */
export interface Built {
  buf: Buffer;
  /** Header counts, label lengths, RDLENGTHs, option lengths. */
  fields: Field[];
  /** Offsets where a name starts (the question's and every RR owner's). */
  names: number[];
}

class W {
  readonly bytes: number[] = [];
  readonly fields: Field[] = [];
  readonly names: number[] = [];

  get length(): number {
    return this.bytes.length;
  }
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u16(v: number): void {
    this.bytes.push((v >>> 8) & 0xff, v & 0xff);
  }
  u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }
  raw(b: ArrayLike<number>): void {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i] & 0xff);
  }
  set16(off: number, v: number): void {
    this.bytes[off] = (v >>> 8) & 0xff;
    this.bytes[off + 1] = v & 0xff;
  }
  field16(v: number): number {
    const off = this.length;
    this.fields.push({ off, size: 2 });
    this.u16(v);
    return off;
  }
  name(labels: readonly Buffer[]): void {
    this.names.push(this.length);
    for (const l of labels) {
      this.fields.push({ off: this.length, size: 1 });
      this.u8(l.length);
      this.raw(l);
    }
    this.u8(0);
  }
  built(): Built {
    return { buf: Buffer.from(this.bytes), fields: this.fields, names: this.names };
  }
}

const T = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, NULL: 10, WKS: 11, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35,
  DS: 43, RRSIG: 46, NSEC: 47, DNSKEY: 48, OPT: 41, SVCB: 64, HTTPS: 65, TKEY: 249, TSIG: 250, IXFR: 251, AXFR: 252,
  MAILB: 253, MAILA: 254, ANY: 255, CAA: 257,
} as const;

const QTYPES_COMMON = [T.A, T.A, T.A, T.AAAA, T.AAAA, T.ANY, T.AXFR, T.IXFR, T.NS, T.SOA, T.CNAME, T.MX, T.TXT, T.CAA];
const QTYPES_RARE = [
  T.NULL, T.WKS, T.PTR, T.HINFO, T.SRV, T.NAPTR, T.DS, T.RRSIG, T.NSEC, T.DNSKEY, T.OPT, T.SVCB, T.HTTPS, T.TKEY, T.TSIG,
  T.MAILB, T.MAILA, 0, 65535, 65280, 32768, 99,
];
const CLASSES_ODD = [3 /* CH */, 4 /* HS */, 254 /* NONE */, 255 /* ANY */, 0, 2, 65535];

const NAMES = [
  'app.example.com', 'app.example.com', 'cdn.example.com', 'cdn.example.com', 'www.example.com', 'example.com',
  'ns1.example.com', 'ns2.example.com', 'nope.example.com', 'a.b.c.app.example.com', '*.example.com', 'x.y.example.com',
  '_dmarc.example.com', 'example.org', 'example.net', 'version.bind', 'hostname.bind', 'id.server', '', 'com',
  'localhost', 'in-addr.arpa', '1.0.0.127.in-addr.arpa',
];

const ECS_V4 = [
  [81, 2, 69, 0], [81, 2, 69, 160], [133, 242, 0, 0], [89, 160, 20, 128], [216, 160, 83, 56], [2, 125, 160, 216],
  [175, 16, 199, 0], [202, 196, 224, 0], [127, 0, 0, 1], [10, 0, 0, 0], [0, 0, 0, 0], [255, 255, 255, 255],
];
const ECS_V6 = [
  [0x20, 0x01, 0x02, 0x18], [0x2a, 0x02, 0xd3, 0x00], [0x20, 0x01, 0x0d, 0xb8], [0x24, 0x00, 0xcb, 0x00], [0, 0, 0, 0],
  [0xfe, 0x80, 0, 0], [0xff, 0xff, 0xff, 0xff],
];

function labelsOf(name: string): Buffer[] {
  return name === '' ? [] : name.split('.').map((l) => Buffer.from(l, 'latin1'));
}

function mixCase(labels: Buffer[], r: Rng): Buffer[] {
  return labels.map((l) => {
    const out = Buffer.from(l);
    for (let i = 0; i < out.length; i++) {
      const c = out[i];
      if (c >= 0x61 && c <= 0x7a && r.chance(0.5)) out[i] = c & 0xdf;
    }
    return out;
  });
}

function randomLabel(r: Rng, len: number, binary: boolean): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = binary ? r.u32() & 0xff : r.pick([0x61 + r.int(26), 0x30 + r.int(10), 0x2d, 0x5f]);
  return b;
}

function genName(r: Rng): Buffer[] {
  const k = r.int(100);
  let labels: Buffer[];
  if (k < 70) labels = labelsOf(r.pick(NAMES));
  else if (k < 80) labels = [randomLabel(r, r.range(1, 20), false), ...labelsOf(r.pick(['example.com', 'app.example.com', 'org']))];
  else if (k < 85) labels = [randomLabel(r, r.range(1, 12), true), ...labelsOf('example.com')]; // odd octets, '.', '\', 0x00
  else if (k < 88) labels = [Buffer.from(r.pick(['app.example', 'a\\.b', 'A.B.C'])), ...labelsOf('example.com')]; // a dot inside a label
  else if (k < 92) labels = [randomLabel(r, 63, r.chance(0.3)), ...labelsOf('example.com')];
  else if (k < 96) {
    // close to and at the 255-octet limit
    labels = [];
    let wire = 1 + 'example.com'.length + 1;
    const target = r.pick([250, 253, 254, 255, 256, 300]);
    while (wire < target) {
      const l = Math.min(63, Math.max(1, target - wire - 1));
      labels.push(randomLabel(r, l, false));
      wire += l + 1;
    }
    labels.push(...labelsOf('example.com'));
  } else labels = Array.from({ length: r.range(1, 130) }, () => Buffer.from([0x61 + r.int(26)])); // many short labels
  return r.chance(0.4) ? mixCase(labels, r) : labels;
}

function ecsData(r: Rng, clean = false): Buffer {
  const family = r.chance(0.6) ? 1 : 2;
  const max = family === 1 ? 32 : 128;
  const validSources = family === 1 ? [0, 8, 16, 20, 24, 24, 25, 27, 32] : [0, 32, 48, 56, 56, 64, 128];
  let source = r.chance(0.8) ? r.pick(validSources) : r.int(max + 1);
  const base = family === 1 ? r.pick(ECS_V4) : r.pick(ECS_V6);
  const full = Buffer.alloc(family === 1 ? 4 : 16);
  for (let i = 0; i < full.length; i++) full[i] = r.chance(0.7) && i < base.length ? base[i] : r.u32() & 0xff;
  let scope = 0;
  let familyOut = family;
  const flaw = clean || r.chance(0.7) ? 'none' : r.pick(['source', 'scope', 'bits', 'length+', 'length-', 'family', 'short']);
  if (flaw === 'source') source = r.range(max + 1, 255);
  if (flaw === 'scope') scope = r.range(1, 255);
  if (flaw === 'family') familyOut = r.pick([0, 3, 0xffff, 0x0100]);
  const addrLen = Math.min((Math.min(source, max) + 7) >>> 3, full.length);
  const addr = Buffer.from(full.subarray(0, addrLen));
  // Clear the bits past SOURCE (RFC 7871 §6) unless this one is meant to be wrong.
  if (flaw !== 'bits' && addrLen > 0 && (source & 7) !== 0) addr[addrLen - 1] &= 0xff << (8 - (source & 7));
  if (flaw === 'bits' && addrLen > 0) addr[addrLen - 1] |= 1;
  let body = Buffer.concat([Buffer.from([familyOut >>> 8, familyOut & 0xff, source & 0xff, scope & 0xff]), addr]);
  if (flaw === 'length+') body = Buffer.concat([body, Buffer.from([r.u32() & 0xff])]);
  if (flaw === 'length-' && body.length > 4) body = body.subarray(0, body.length - 1);
  if (flaw === 'short') body = body.subarray(0, r.int(4));
  return body;
}

function genOptions(r: Rng, clean = false): Array<{ code: number; data: Buffer }> {
  const out: Array<{ code: number; data: Buffer }> = [];
  const n = clean ? r.pick([0, 1, 1, 1]) : r.pick([0, 1, 1, 1, 2, 3]);
  for (let i = 0; i < n; i++) {
    const k = r.int(100);
    if (k < 55 || clean) out.push({ code: 8, data: ecsData(r, clean) });
    else if (k < 65) out.push({ code: 10, data: r.bytes(r.pick([8, 8, 24, 40, 7])) }); // COOKIE
    else if (k < 72) out.push({ code: 12, data: Buffer.alloc(r.int(200)) }); // PADDING
    else if (k < 77) out.push({ code: 11, data: r.bytes(r.pick([0, 2])) }); // TCP KEEPALIVE
    else if (k < 82) out.push({ code: 3, data: Buffer.alloc(0) }); // NSID
    else if (k < 86) out.push({ code: 15, data: Buffer.concat([Buffer.from([0, r.int(30)]), r.bytes(r.int(20))]) }); // EDE
    else out.push({ code: r.u32() & 0xffff, data: r.bytes(r.int(40)) });
  }
  return out;
}

function writeOpt(w: W, r: Rng, ownerRoot = true, clean = false): void {
  if (ownerRoot) {
    w.names.push(w.length);
    w.u8(0);
  } else w.name(labelsOf(r.pick(['example.com', 'a'])));
  w.u16(T.OPT);
  w.u16(r.pick([0, 1, 511, 512, 1220, 1232, 1232, 1400, 4096, 4096, 65535, r.u32() & 0xffff])); // UDP size
  w.u8(clean || r.chance(0.95) ? 0 : r.u32() & 0xff); // EXTENDED-RCODE
  w.u8(clean || r.chance(0.85) ? 0 : r.pick([1, 2, 255])); // VERSION
  w.u16((r.chance(0.3) ? 0x8000 : 0) | (r.chance(0.05) ? r.u32() & 0x7fff : 0)); // DO, Z
  const rdlenAt = w.field16(0);
  const start = w.length;
  for (const o of genOptions(r, clean)) {
    w.field16(o.code);
    w.field16(o.data.length);
    w.raw(o.data);
  }
  w.set16(rdlenAt, w.length - start);
}

/** An RR with an owner name that may use compression pointers of every kind. */
function writeRr(w: W, r: Rng, type: number): void {
  const k = r.int(10);
  const at = w.length;
  w.names.push(at);
  if (k < 3) w.u16(0xc00c); // backward to the question: valid
  else if (k < 4) w.u16(0xc000 | at); // self
  else if (k < 5) w.u16(0xc000 | (at + 2 + r.int(40))); // forward
  else if (k < 6) {
    // loop: two pointers pointing at each other
    w.u16(0xc000 | (at + 2));
    w.u16(0xc000 | at);
  } else if (k < 7) {
    // chain: label, pointer -> pointer -> ... -> question
    const n = r.range(2, 8);
    for (let i = 0; i < n - 1; i++) w.u16(0xc000 | (at + 2 * (i + 1)));
    w.u16(0xc00c);
  } else if (k < 8) w.u16(0xc000 | r.int(12)); // into the header
  else w.name(labelsOf(r.pick(['key.example.com', 'example.com', ''])));
  w.u16(type);
  w.u16(type === T.TSIG ? 255 : 1);
  w.u32(type === T.TSIG ? 0 : 300);
  const rd = type === T.A ? r.bytes(4) : r.bytes(r.int(60));
  w.field16(rd.length);
  w.raw(rd);
}

/**
 * A query, well-formed or nearly, from the corpus description above; `clean`: a well-formed
 * QUERY for class IN with at most a valid ECS option (the answer paths, the per-client cache).
 */
export function genSeed(r: Rng, clean = false): Built {
  const w = new W();
  w.u16(r.u32() & 0xffff);
  const opcode = clean || r.chance(0.92) ? 0 : r.pick([1, 2, 3, 4, 5, 6, 15]);
  const flags =
    (opcode << 11) |
    (r.chance(0.7) ? 0x0100 : 0) | // RD
    (r.chance(0.1) ? 0x0020 : 0) | // AD
    (r.chance(0.1) ? 0x0010 : 0) | // CD
    (r.chance(0.03) ? 0x0040 : 0) | // Z
    (r.chance(0.03) ? 0x0400 : 0) | // AA
    (r.chance(0.03) ? 0x0200 : 0) | // TC
    (!clean && r.chance(0.02) ? r.int(16) : 0); // RCODE in a query
  w.u16(flags);
  const qd = clean || r.chance(0.94) ? 1 : r.pick([0, 2]);
  const counts = w.length;
  w.field16(qd);
  w.field16(0);
  w.field16(0);
  w.field16(0);
  for (let i = 0; i < qd; i++) {
    w.name(clean ? mixCase(labelsOf(r.pick(NAMES.slice(0, 12))), r) : genName(r));
    w.u16(r.chance(0.85) ? r.pick(QTYPES_COMMON) : r.chance(0.8) ? r.pick(QTYPES_RARE) : r.u32() & 0xffff);
    w.u16(clean || r.chance(0.88) ? 1 : r.pick(CLASSES_ODD));
  }
  let an = 0;
  let ns = 0;
  let ar = 0;
  if (!clean && r.chance(0.04)) {
    if (r.chance(0.5)) writeOpt(w, r);
    else writeRr(w, r, T.A);
    an++;
  }
  if (!clean && r.chance(0.04)) {
    writeRr(w, r, r.pick([T.SOA, T.NS, T.A]));
    ns++;
  }
  const tsigFirst = !clean && r.chance(0.04);
  if (tsigFirst) {
    writeRr(w, r, T.TSIG);
    ar++;
  }
  if (r.chance(clean ? 0.8 : 0.6)) {
    writeOpt(w, r, clean || r.chance(0.97), clean);
    ar++;
    if (!clean && r.chance(0.03)) {
      writeOpt(w, r);
      ar++;
    }
  }
  if (!clean && !tsigFirst && r.chance(0.04)) {
    writeRr(w, r, T.TSIG);
    ar++;
  }
  w.set16(counts + 2, an);
  w.set16(counts + 4, ns);
  w.set16(counts + 6, ar);
  return w.built();
}

// ----------------------------------------------------------------------------------------------
// Mutations

const INTERESTING8 = [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xfe, 0xff];
const INTERESTING16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xfffe, 0xffff];

function splice(buf: Buffer, at: number, del: number, ins: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, at), ins, buf.subarray(Math.min(buf.length, at + del))]);
}

/** One structural mutation that uses the built message's field and name offsets. */
function structural(b: Built, r: Rng): { buf: Buffer; op: string } {
  const buf = Buffer.from(b.buf);
  const k = r.int(100);
  if (k < 30) {
    // header counts
    const off = 4 + 2 * r.int(4);
    buf.writeUInt16BE(r.chance(0.7) ? r.pick(INTERESTING16) : r.u32() & 0xffff, off);
    return { buf, op: 'count' };
  }
  if (k < 65 && b.fields.length > 0) {
    const f = r.pick(b.fields);
    if (f.off + f.size > buf.length) return { buf, op: 'none' };
    if (f.size === 1) {
      const orig = buf[f.off];
      buf[f.off] = r.chance(0.5) ? r.pick(INTERESTING8) : r.pick([orig + 1, orig - 1, orig + r.range(2, 64), r.u32()]) & 0xff;
    } else {
      const orig = buf.readUInt16BE(f.off);
      buf.writeUInt16BE((r.chance(0.5) ? r.pick(INTERESTING16) : r.pick([orig + 1, orig - 1, orig + r.range(2, 300), r.u32()])) & 0xffff, f.off);
    }
    return { buf, op: 'length-field' };
  }
  if (b.names.length === 0) return { buf, op: 'none' };
  // compression pointers written over or inserted at a name
  const at = r.pick(b.names);
  const kind = r.int(7);
  const ptr = (target: number) => Buffer.from([0xc0 | ((target >>> 8) & 0x3f), target & 0xff]);
  switch (kind) {
    case 0:
      return { buf: splice(buf, at, 2, ptr(at)), op: 'ptr-self' };
    case 1:
      return { buf: splice(buf, at, 2, ptr(at + 2 + r.int(Math.max(1, buf.length - at)))), op: 'ptr-forward' };
    case 2:
      return { buf: splice(buf, at, 0, Buffer.concat([ptr(at + 2), ptr(at)])), op: 'ptr-loop' };
    case 3: {
      const n = r.range(2, 12);
      const parts: Buffer[] = [];
      for (let i = 0; i < n - 1; i++) parts.push(ptr(at + 2 * (i + 1)));
      parts.push(ptr(r.chance(0.5) ? 12 : at));
      return { buf: splice(buf, at, 0, Buffer.concat(parts)), op: 'ptr-chain' };
    }
    case 4:
      return { buf: splice(buf, at, 2, ptr(r.int(12))), op: 'ptr-header' };
    case 5:
      return { buf: splice(buf, at, 2, ptr(r.chance(0.5) ? 0x3fff : buf.length + r.int(100))), op: 'ptr-beyond' };
    default: {
      // keep the first label, then a pointer (backwards to the question, or to itself)
      const l = buf[at] ?? 0;
      const cut = at + 1 + (l & 0x3f);
      if (cut >= buf.length) return { buf, op: 'none' };
      let stop = cut;
      while (stop < buf.length && buf[stop] !== 0) stop++;
      return { buf: splice(buf, cut, stop + 1 - cut, ptr(r.chance(0.5) ? at : 12)), op: 'ptr-after-label' };
    }
  }
}

/** One byte-level mutation. */
function byteLevel(buf: Buffer, r: Rng, other: () => Buffer): Buffer {
  const len = buf.length;
  switch (r.int(11)) {
    case 0:
    case 1: {
      const out = Buffer.from(buf);
      const flips = r.range(1, 8);
      for (let i = 0; i < flips && len > 0; i++) out[r.int(len)] ^= 1 << r.int(8);
      return out;
    }
    case 2: {
      if (len === 0) return buf;
      const out = Buffer.from(buf);
      out[r.int(len)] = r.pick(INTERESTING8);
      return out;
    }
    case 3:
      return splice(buf, r.int(len + 1), 0, r.bytes(r.range(1, 8)));
    case 4:
      return splice(buf, r.int(len + 1), r.range(1, 8), Buffer.alloc(0));
    case 5:
      return buf.subarray(0, r.chance(0.5) ? r.int(len + 1) : Math.max(0, len - r.range(1, 6)));
    case 6: {
      const a = r.int(len + 1);
      const b = Math.min(len, a + r.range(1, 40));
      return splice(buf, r.int(len + 1), 0, buf.subarray(a, b));
    }
    case 7:
      return Buffer.concat([buf, r.bytes(r.range(1, 64))]);
    case 8: {
      const o = other();
      return Buffer.concat([buf.subarray(0, r.int(len + 1)), o.subarray(r.int(o.length + 1))]);
    }
    case 9: {
      // the QR / OPCODE / flags octets
      const out = Buffer.from(buf);
      if (len > 3) out[2 + r.int(2)] = r.u32() & 0xff;
      return out;
    }
    default: {
      if (len < 2) return buf;
      const out = Buffer.from(buf);
      const i = r.int(len);
      const j = r.int(len);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
      return out;
    }
  }
}

export type PacketKind = 'valid' | 'seed' | 'mutated' | 'garbage' | 'header+garbage';

export interface GenPacket {
  buf: Buffer;
  kind: PacketKind;
  ops: string[];
}

/** One packet: a plain seed, a mutated seed, random garbage, or random bytes behind a header. */
export function genPacket(r: Rng): GenPacket {
  const k = r.int(100);
  if (k < 10) return { buf: genSeed(r, true).buf, kind: 'valid', ops: [] };
  if (k < 20) return { buf: genSeed(r).buf, kind: 'seed', ops: [] };
  if (k < 82) {
    const seed = genSeed(r);
    const ops: string[] = [];
    let buf = seed.buf;
    if (r.chance(0.6)) {
      const s = structural(seed, r);
      buf = s.buf;
      ops.push(s.op);
    }
    const n = ops.length === 0 ? r.range(1, 4) : r.int(3);
    for (let i = 0; i < n; i++) {
      buf = byteLevel(buf, r, () => genSeed(r).buf);
      ops.push('byte');
    }
    return { buf, kind: 'mutated', ops };
  }
  if (k < 92) {
    const len = r.chance(0.1) ? r.int(12) : r.chance(0.85) ? r.range(12, 512) : r.range(513, 4096);
    return { buf: r.bytes(len), kind: 'garbage', ops: [] };
  }
  const h = Buffer.alloc(12);
  h.writeUInt16BE(r.u32() & 0xffff, 0);
  h.writeUInt16BE(r.chance(0.5) ? 0x0100 : 0, 2);
  h.writeUInt16BE(r.chance(0.8) ? 1 : r.int(4), 4);
  h.writeUInt16BE(r.int(3), 6);
  h.writeUInt16BE(r.int(3), 8);
  h.writeUInt16BE(r.int(4), 10);
  return { buf: Buffer.concat([h, r.bytes(r.int(300))]), kind: 'header+garbage', ops: [] };
}

// ----------------------------------------------------------------------------------------------
// Reply checks

/** Does georoute answer this message at all (README: not when < 12 octets or QR = 1)? */
export function answerable(msg: Buffer): boolean {
  return msg.length >= 12 && (msg[2] & 0x80) === 0;
}

/** Length of the question section at offset 12 of a reply whose QDCOUNT is 1, or -1. */
function questionLength(msg: Buffer): number {
  let p = 12;
  for (;;) {
    if (p >= msg.length) return -1;
    const l = msg[p];
    if (l === 0) break;
    if (l > 63) return -1;
    p += 1 + l;
  }
  p += 1 + 4;
  return p > msg.length ? -1 : p - 12;
}

export type ViolationKind =
  | 'unparseable'
  | 'trailing-octets'
  | 'qr-clear'
  | 'id-mismatch'
  | 'opcode-mismatch'
  | 'question-not-echoed'
  | 'amplification'
  | 'udp-over-limit'
  | 'tc-over-tcp'
  | 'udp-no-reply'
  | 'udp-reply-to-unanswerable'
  | 'tcp-missing-replies'
  | 'tcp-extra-replies'
  | 'tcp-bad-frame'
  | 'tcp-hang'
  | 'tcp-connect-error'
  | 'probe-failed';

export interface Sample {
  query: string;
  reply?: string;
  detail: string;
}

/** Checks one reply against its query; returns the violations found (empty when sound). */
export function checkReply(query: Buffer, reply: Buffer, transport: 'udp' | 'tcp'): Array<{ kind: ViolationKind; detail: string }> {
  const out: Array<{ kind: ViolationKind; detail: string }> = [];
  let decoded: dnsPacket.Packet | null = null;
  try {
    decoded = dnsPacket.decode(reply);
    const used = (dnsPacket.decode as unknown as { bytes: number }).bytes;
    // dns-packet does not throw on every overrun (an RDATA cut short is read as if it were there):
    // the octets it consumed must be exactly the reply's.
    if (used > reply.length) out.push({ kind: 'unparseable', detail: `dns-packet read ${used} octets of a ${reply.length}-octet reply` });
    else if (used < reply.length) out.push({ kind: 'trailing-octets', detail: `dns-packet read ${used} of ${reply.length} octets` });
  } catch (err) {
    out.push({ kind: 'unparseable', detail: (err as Error).message });
  }
  if (reply.length < 12) {
    if (out.length === 0) out.push({ kind: 'unparseable', detail: `reply of ${reply.length} octets` });
    return out;
  }
  if ((reply[2] & 0x80) === 0) out.push({ kind: 'qr-clear', detail: 'QR = 0 in a reply' });
  if (query.length >= 2 && reply.readUInt16BE(0) !== query.readUInt16BE(0)) {
    out.push({ kind: 'id-mismatch', detail: `reply ID ${reply.readUInt16BE(0)} for query ID ${query.readUInt16BE(0)}` });
  }
  if (query.length >= 3 && ((reply[2] >>> 3) & 0x0f) !== ((query[2] >>> 3) & 0x0f)) {
    out.push({ kind: 'opcode-mismatch', detail: `reply OPCODE ${(reply[2] >>> 3) & 0x0f}, query ${(query[2] >>> 3) & 0x0f}` });
  }
  if (reply.readUInt16BE(4) === 1) {
    const ql = questionLength(reply);
    if (ql < 0 || query.length < 12 + ql || !reply.subarray(12, 12 + ql).equals(query.subarray(12, 12 + ql))) {
      out.push({ kind: 'question-not-echoed', detail: 'the reply question is not the query question octet for octet' });
    }
  }
  if (transport === 'tcp' && (reply[2] & 0x02) !== 0) out.push({ kind: 'tc-over-tcp', detail: 'TC = 1 over TCP' });
  if (transport === 'udp') {
    if (query.length >= 12 && reply.length > 10 * query.length) {
      out.push({ kind: 'amplification', detail: `${reply.length}-octet reply to a ${query.length}-octet query` });
    }
    const hasOpt = decoded !== null && (decoded.additionals ?? []).some((a) => a.type === 'OPT');
    const limit = hasOpt ? 1232 : 512;
    if (reply.length > limit) out.push({ kind: 'udp-over-limit', detail: `${reply.length} octets over UDP, limit ${limit}${hasOpt ? ' (OPT)' : ''}` });
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// The run

export interface FuzzTarget {
  port: number;
  host?: string;
  /** PID for RSS samples (/proc/PID/status VmRSS); omitted in-process. */
  pid?: number;
  /** False once the server process has exited. */
  alive?: () => boolean;
}

export interface FuzzOptions {
  seed?: number;
  /** Stop after this many packets (UDP datagrams + TCP messages). */
  packets?: number;
  /** Stop after this many seconds. */
  seconds?: number;
  udpWorkers?: number;
  tcpWorkers?: number;
  /** Share of packets sent over TCP (in sessions of pipelined messages). */
  tcpShare?: number;
  /** Share of the packet or time budget before the warm-up RSS sample. */
  warmupFraction?: number;
  /** A normal query that must be answered correctly: name, and the A record expected (or any A when omitted). */
  probe?: { name: string; subnet: string; expect?: string };
  log?: (line: string) => void;
  progressEveryMs?: number;
}

export interface FuzzReport {
  seed: number;
  durationS: number;
  packets: number;
  udp: { sent: number; answerable: number; replies: number; unanswerableSent: number; lateReplies: number; maxRatio: number; maxRatioSample: string };
  tcp: { sessions: number; messages: number; expectedReplies: number; replies: number; serverClosedEarly: number; resets: number };
  kinds: Record<PacketKind, number>;
  replyRcodes: Record<string, number>;
  violations: Partial<Record<ViolationKind, number>>;
  samples: Partial<Record<ViolationKind, Sample[]>>;
  probes: { sent: number; failed: number; maxMs: number; p99Ms: number };
  finalCheck: { udp: string; tcp: string; ok: boolean };
  rss?: { startKb: number; warmupKb: number; warmupAtS: number; endKb: number; maxKb: number; growthPct: number; series: Array<[number, number]> };
  /** Epoch ms when the run started. */
  startedAt: number;
  serverAlive: boolean;
}

const SAMPLE_LIMIT = 5;
const UDP_TIMEOUT_MS = 2000;
const TCP_SESSION_TIMEOUT_MS = 5000;
const TCP_SESSION_LIMIT_MS = 60_000;

export function readRssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function encodeProbe(name: string, subnet: string, id: number): Buffer {
  const [ip, len] = subnet.split('/');
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false,
        options: [{ code: 'CLIENT_SUBNET', family: ip.includes(':') ? 2 : 1, sourcePrefixLength: Number(len), scopePrefixLength: 0, ip }],
      } as never,
    ],
  });
}

/** One normal query; '' when the answer is right, else what was wrong. */
export async function probeOnce(host: string, port: number, probe: NonNullable<FuzzOptions['probe']>, transport: 'udp' | 'tcp'): Promise<string> {
  const id = (Math.random() * 0xffff) | 0;
  try {
    const q = encodeProbe(probe.name, probe.subnet, id);
    const raw = transport === 'udp' ? await sendUdp(port, q, 2000, { host }) : await sendTcp(port, q, 2000, { host });
    const p = dnsPacket.decode(raw) as dnsPacket.Packet & { rcode?: string };
    const a = (p.answers ?? []).filter((x) => x.type === 'A').map((x) => (x as { data: string }).data);
    if (p.id !== id) return `ID ${p.id}, expected ${id}`;
    if (p.rcode !== 'NOERROR') return `rcode ${p.rcode}`;
    if (a.length === 0) return 'no A record';
    if (probe.expect !== undefined && !a.includes(probe.expect)) return `A ${a.join(',')}, expected ${probe.expect}`;
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

interface Expected {
  query: Buffer;
}

/**
 * The server's framing (tcp-server.ts) applied to `stream`: the messages it answers, whether it
 * closes the connection by itself, and where in the stream (the octet after the closing frame).
 */
export function simulateTcpFraming(stream: Buffer): { answered: Expected[]; closes: boolean; closeAt: number; messages: number } {
  const answered: Expected[] = [];
  let i = 0;
  let messages = 0;
  while (i + 2 <= stream.length) {
    const length = stream.readUInt16BE(i);
    i += 2;
    if (length === 0) return { answered, closes: true, closeAt: i, messages };
    if (i + length > stream.length) return { answered, closes: false, closeAt: stream.length, messages }; // incomplete frame: waits
    const msg = stream.subarray(i, i + length);
    i += length;
    messages++;
    if (!answerable(msg)) return { answered, closes: true, closeAt: i, messages };
    answered.push({ query: msg });
  }
  return { answered, closes: false, closeAt: stream.length, messages };
}

function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + msg.length);
  out.writeUInt16BE(msg.length & 0xffff, 0);
  msg.copy(out, 2);
  return out;
}

/** A TCP byte stream: pipelined messages with correct, corrupted, zero or random framing. */
function genTcpStream(r: Rng): { stream: Buffer; framing: string; messages: number } {
  const n = r.range(1, 12);
  const msgs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = genPacket(r).buf;
    msgs.push(p.length > 65535 ? p.subarray(0, 65535) : p);
  }
  const k = r.int(100);
  if (k < 70) return { stream: Buffer.concat(msgs.map(frame)), framing: 'proper', messages: n };
  if (k < 80) {
    const framed = msgs.map(frame);
    const j = r.int(framed.length);
    const orig = framed[j].readUInt16BE(0);
    framed[j].writeUInt16BE(r.chance(0.5) ? (orig + r.range(-3, 3)) & 0xffff : r.u32() & 0xffff, 0);
    return { stream: Buffer.concat(framed), framing: 'corrupt-length', messages: n };
  }
  if (k < 86) {
    const framed = msgs.map(frame);
    framed.splice(r.int(framed.length + 1), 0, Buffer.from([0, 0]));
    return { stream: Buffer.concat(framed), framing: 'zero-length', messages: n };
  }
  if (k < 93) return { stream: Buffer.concat([...msgs.map(frame), r.bytes(r.range(1, 40))]), framing: 'trailing-garbage', messages: n };
  return { stream: r.bytes(r.range(1, 400)), framing: 'random', messages: 1 };
}

class Stats {
  readonly violations: Partial<Record<ViolationKind, number>> = {};
  readonly samples: Partial<Record<ViolationKind, Sample[]>> = {};
  readonly rcodes: Record<string, number> = {};

  add(kind: ViolationKind, sample: Sample): void {
    this.violations[kind] = (this.violations[kind] ?? 0) + 1;
    const list = (this.samples[kind] ??= []);
    if (list.length < SAMPLE_LIMIT) list.push(sample);
  }

  rcode(reply: Buffer): void {
    if (reply.length < 4) return;
    const name = String(reply[3] & 0x0f);
    this.rcodes[name] = (this.rcodes[name] ?? 0) + 1;
  }
}

const RCODE_NAMES: Record<string, string> = { '0': 'NOERROR', '1': 'FORMERR', '2': 'SERVFAIL', '3': 'NXDOMAIN', '4': 'NOTIMP', '5': 'REFUSED' };

export async function runFuzz(target: FuzzTarget, options: FuzzOptions = {}): Promise<FuzzReport> {
  const host = target.host ?? '127.0.0.1';
  const port = target.port;
  const seed = options.seed ?? 1;
  const maxPackets = options.packets ?? 1_000_000;
  const maxMs = (options.seconds ?? 600) * 1000;
  const udpWorkers = options.udpWorkers ?? 32;
  const tcpWorkers = options.tcpWorkers ?? 16;
  const tcpShare = options.tcpShare ?? 0.2;
  const warmupFraction = options.warmupFraction ?? 0.2;
  const probe = options.probe ?? { name: 'app.example.com', subnet: '81.2.69.0/24' };
  const log = options.log ?? (() => undefined);
  const stats = new Stats();
  const kinds: Record<PacketKind, number> = { valid: 0, seed: 0, mutated: 0, garbage: 0, 'header+garbage': 0 };
  const udp = { sent: 0, answerable: 0, replies: 0, unanswerableSent: 0, lateReplies: 0, maxRatio: 0, maxRatioSample: '' };
  const tcp = { sessions: 0, messages: 0, expectedReplies: 0, replies: 0, serverClosedEarly: 0, resets: 0 };
  let packets = 0;
  const started = Date.now();
  const deadline = started + maxMs;
  let stopping = false;
  const more = (): boolean => !stopping && packets < maxPackets && Date.now() < deadline && (target.alive?.() ?? true);

  // RSS: a sample every second; the warm-up sample when the run passes warmupFraction of either budget.
  const rssSeries: Array<[number, number]> = [];
  let warmupKb = 0;
  let warmupAtS = 0;
  const rssNow = () => (target.pid !== undefined ? readRssKb(target.pid) : null);
  const startKb = rssNow() ?? 0;
  const sampleRss = () => {
    const kb = rssNow();
    if (kb === null) return;
    rssSeries.push([Math.round((Date.now() - started) / 1000), kb]);
    if (warmupKb === 0 && (packets >= maxPackets * warmupFraction || Date.now() - started >= maxMs * warmupFraction)) {
      warmupKb = kb;
      warmupAtS = (Date.now() - started) / 1000;
    }
  };
  const rssTimer = target.pid !== undefined ? setInterval(sampleRss, 1000) : null;

  // Probes: a normal query over UDP and TCP every 2 s.
  const probeLatencies: number[] = [];
  let probeFailed = 0;
  let probesSent = 0;
  const probeLoop = (async () => {
    while (more()) {
      await new Promise((r) => setTimeout(r, 2000));
      if (!more()) break;
      for (const transport of ['udp', 'tcp'] as const) {
        const t0 = process.hrtime.bigint();
        probesSent++;
        const problem = await probeOnce(host, port, probe, transport);
        probeLatencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (problem !== '') {
          probeFailed++;
          stats.add('probe-failed', { query: encodeProbe(probe.name, probe.subnet, 0).toString('hex'), detail: `${transport}: ${problem}` });
        }
      }
    }
  })();

  let lastProgress = Date.now();
  const progressEvery = options.progressEveryMs ?? 10_000;
  const progress = () => {
    if (Date.now() - lastProgress < progressEvery) return;
    lastProgress = Date.now();
    const s = (Date.now() - started) / 1000;
    const v = Object.values(stats.violations).reduce((a, b) => a + (b ?? 0), 0);
    const rss = rssSeries.length > 0 ? `, RSS ${(rssSeries[rssSeries.length - 1][1] / 1024).toFixed(1)} MiB` : '';
    log(`fuzz: ${s.toFixed(0)} s, ${packets} packets (${Math.round(packets / s)}/s), udp ${udp.sent}, tcp ${tcp.messages} in ${tcp.sessions} sessions, violations ${v}${rss}`);
  };

  // UDP: answerable messages stop-and-wait per socket (so a reply is matched to its query);
  // unanswerable ones go out on one shared socket, where any reply is a violation.
  const dropSocket = dgram.createSocket('udp4');
  const recentDrops: Buffer[] = [];
  dropSocket.on('message', (m) => {
    const id = m.length >= 2 ? m.readUInt16BE(0) : -1;
    const q = recentDrops.find((d) => d.length >= 2 && d.readUInt16BE(0) === id) ?? recentDrops[recentDrops.length - 1];
    stats.add('udp-reply-to-unanswerable', { query: q?.toString('hex') ?? '', reply: m.toString('hex'), detail: 'a reply to a message shorter than 12 octets or with QR = 1' });
  });
  dropSocket.on('error', () => undefined);
  await new Promise<void>((r) => dropSocket.bind(0, '127.0.0.1', () => r()));

  const udpWorker = async (index: number) => {
    const r = new Rng((seed * 1000003 + index * 7919) >>> 0);
    const sock = dgram.createSocket('udp4');
    let pending: ((m: Buffer | null) => void) | null = null;
    sock.on('message', (m) => {
      if (pending !== null) {
        const p = pending;
        pending = null;
        p(m);
      } else udp.lateReplies++;
    });
    sock.on('error', () => undefined);
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    const send = (s: dgram.Socket, b: Buffer) => new Promise<void>((res) => s.send(b, port, host, () => res()));
    try {
      while (more()) {
        const g = genPacket(r);
        packets++;
        udp.sent++;
        kinds[g.kind]++;
        if (!answerable(g.buf)) {
          udp.unanswerableSent++;
          recentDrops.push(g.buf);
          if (recentDrops.length > 64) recentDrops.shift();
          await send(dropSocket, g.buf);
          continue;
        }
        udp.answerable++;
        const reply = await new Promise<Buffer | null>((res) => {
          const timer = setTimeout(() => {
            pending = null;
            res(null);
          }, UDP_TIMEOUT_MS);
          pending = (m) => {
            clearTimeout(timer);
            res(m);
          };
          sock.send(g.buf, port, host);
        });
        if (reply === null) {
          stats.add('udp-no-reply', { query: g.buf.toString('hex'), detail: `no reply within ${UDP_TIMEOUT_MS} ms (${g.kind} ${g.ops.join('+')})` });
          continue;
        }
        udp.replies++;
        stats.rcode(reply);
        if (reply.length / g.buf.length > udp.maxRatio) {
          udp.maxRatio = reply.length / g.buf.length;
          udp.maxRatioSample = `${g.buf.length} -> ${reply.length} octets, query ${g.buf.toString('hex')}`;
        }
        for (const v of checkReply(g.buf, reply, 'udp')) {
          stats.add(v.kind, { query: g.buf.toString('hex'), reply: reply.toString('hex'), detail: `${v.detail} (${g.kind} ${g.ops.join('+')})` });
        }
        progress();
      }
    } finally {
      sock.close();
    }
  };

  const tcpSession = (r: Rng, stream: Buffer, framing: string, sim: ReturnType<typeof simulateTcpFraming>) =>
    new Promise<void>((resolve) => {
      const sock = net.connect({ port, host, noDelay: true });
      let acc = Buffer.alloc(0);
      let got = 0;
      let reset = false;
      let done = false;
      let writeMode = -1;
      const sample = (detail: string, reply?: Buffer, query?: Buffer): Sample => ({
        query: (query ?? stream).toString('hex').slice(0, 4000),
        reply: reply?.toString('hex'),
        detail: `${detail} (framing ${framing}, stream ${stream.toString('hex').slice(0, 2000)})`,
      });
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (hangTimer !== null) clearTimeout(hangTimer);
        if (acc.length > 0) stats.add('tcp-bad-frame', sample(`${acc.length} octets after the last whole reply frame`, acc));
        if (got < sim.answered.length) {
          if (reset) {
            tcp.resets++;
            if (process.env.FUZZ_DEBUG_RESETS) process.stderr.write(`RESET got=${got} expected=${sim.answered.length} closes=${sim.closes} mode=${writeMode} framing=${framing} stream=${stream.toString('hex')}\n`);
          } else stats.add('tcp-missing-replies', sample(`${got} of ${sim.answered.length} replies`));
        }
        if (sim.closes) tcp.serverClosedEarly++;
        sock.destroy();
        resolve();
      };
      // The server must close (or have answered and closed) within 5 s of our last octet and FIN.
      let hangTimer: NodeJS.Timeout | null = null;
      const written = () => {
        hangTimer = setTimeout(() => {
          stats.add('tcp-hang', sample(`connection still open ${TCP_SESSION_TIMEOUT_MS} ms after the client's FIN (${got} of ${sim.answered.length} replies)`));
          finish();
        }, TCP_SESSION_TIMEOUT_MS);
      };
      const timer = setTimeout(() => {
        stats.add('tcp-hang', sample(`session not finished after ${TCP_SESSION_LIMIT_MS} ms (${got} of ${sim.answered.length} replies)`));
        finish();
      }, TCP_SESSION_LIMIT_MS);
      sock.on('data', (d) => {
        acc = acc.length === 0 ? d : Buffer.concat([acc, d]);
        while (acc.length >= 2 && acc.length >= 2 + acc.readUInt16BE(0)) {
          const len = acc.readUInt16BE(0);
          const reply = acc.subarray(2, 2 + len);
          acc = acc.subarray(2 + len);
          const expected = sim.answered[got];
          got++;
          tcp.replies++;
          if (expected === undefined) {
            stats.add('tcp-extra-replies', sample(`reply ${got} when ${sim.answered.length} were expected`, reply));
            continue;
          }
          stats.rcode(reply);
          for (const v of checkReply(expected.query, reply, 'tcp')) stats.add(v.kind, sample(v.detail, reply, expected.query));
        }
      });
      sock.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
        else stats.add('tcp-connect-error', sample(`${e.code ?? ''} ${e.message}`));
      });
      sock.on('close', finish);
      sock.on('connect', async () => {
        // Write: all at once (pipelined), frame by frame, or in random chunks down to one octet.
        const mode = r.int(10);
        writeMode = mode;
        if (mode < 5) {
          sock.end(stream);
          written();
          return;
        }
        // Nothing after a frame that makes the server close: a write into a connection the server
        // has reset makes Node destroy the socket, possibly with replies still unread in the
        // kernel (the one-write mode above still sends the octets after it).
        const upTo = sim.closes ? sim.closeAt : stream.length;
        const chunks: Buffer[] = [];
        let i = 0;
        while (i < upTo) {
          const size = mode < 8 || upTo > 512 ? r.range(1, 64) : 1;
          chunks.push(stream.subarray(i, Math.min(upTo, i + size)));
          i += size;
        }
        // Each chunk after a turn of the event loop: replies (and a close by the server) are read
        // before the next write, so a write into a connection the server reset cannot make Node
        // destroy the socket with a reply still unread in the kernel.
        for (const c of chunks) {
          await new Promise((res) => setImmediate(res));
          if (done || sock.destroyed || !sock.writable) return;
          sock.write(c);
        }
        await new Promise((res) => setImmediate(res));
        if (!done && sock.writable) sock.end();
        if (!done) written();
      });
    });

  const tcpRngs = new Map<number, Rng>();
  const workers: Array<Promise<void>> = [];
  const nTcp = tcpShare > 0 ? tcpWorkers : 0;
  // All workers share one packet budget; a TCP worker waits while the TCP lane is above its share.
  for (let i = 0; i < udpWorkers; i++) workers.push(udpWorker(i));
  for (let i = 0; i < nTcp; i++) {
    workers.push(
      (async () => {
        while (more()) {
          if (tcp.messages > tcpShare * Math.max(packets, 1) + 50) {
            await new Promise((res) => setTimeout(res, 5));
            continue;
          }
          await tcpWorkerStep(i);
        }
      })(),
    );
  }
  async function tcpWorkerStep(i: number): Promise<void> {
    let r = tcpRngs.get(i);
    if (r === undefined) {
      r = new Rng((seed * 1000003 + 0x7cf + i * 104729) >>> 0);
      tcpRngs.set(i, r);
    }
    const { stream, framing, messages } = genTcpStream(r);
    packets += messages;
    tcp.messages += messages;
    tcp.sessions++;
    const sim = simulateTcpFraming(stream);
    tcp.expectedReplies += sim.answered.length;
    await tcpSession(r, stream, framing, sim);
    progress();
  }

  await Promise.all(workers);
  stopping = true;
  await probeLoop;
  dropSocket.close();
  // Give late datagrams a moment, then the last RSS sample and the final check.
  await new Promise((r) => setTimeout(r, 300));
  if (rssTimer !== null) clearInterval(rssTimer);
  sampleRss();
  const endKb = rssNow() ?? 0;
  if (warmupKb === 0 && rssSeries.length > 0) warmupKb = rssSeries[0][1];

  const serverAlive = target.alive?.() ?? true;
  const udpFinal = await probeOnce(host, port, probe, 'udp');
  const tcpFinal = await probeOnce(host, port, probe, 'tcp');
  const sorted = [...probeLatencies].sort((a, b) => a - b);
  const replyRcodes: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats.rcodes)) replyRcodes[RCODE_NAMES[k] ?? `RCODE${k}`] = v;
  const report: FuzzReport = {
    seed,
    durationS: (Date.now() - started) / 1000,
    packets,
    udp,
    tcp,
    kinds,
    replyRcodes,
    violations: stats.violations,
    samples: stats.samples,
    probes: {
      sent: probesSent,
      failed: probeFailed,
      maxMs: sorted.length ? sorted[sorted.length - 1] : 0,
      p99Ms: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : 0,
    },
    finalCheck: { udp: udpFinal || 'ok', tcp: tcpFinal || 'ok', ok: udpFinal === '' && tcpFinal === '' },
    serverAlive,
    startedAt: started,
  };
  if (target.pid !== undefined) {
    const maxKb = rssSeries.reduce((m, [, kb]) => Math.max(m, kb), 0);
    report.rss = { startKb, warmupKb, warmupAtS, endKb, maxKb, growthPct: warmupKb > 0 ? ((endKb - warmupKb) / warmupKb) * 100 : 0, series: rssSeries };
  }
  return report;
}

export function totalViolations(r: FuzzReport): number {
  return Object.values(r.violations).reduce((a, b) => a + (b ?? 0), 0);
}

/** A Markdown section for bench/RESULTS.md. */
export function formatReport(
  r: FuzzReport,
  extra: { command?: string; unhandled?: number; errorLines?: number; handlerErrorLines?: number; heap?: HeapFigures } = {},
): string {
  const mib = (kb: number) => (kb / 1024).toFixed(1);
  const lines: string[] = [];
  lines.push(`| figure | value |`, `|---|---|`);
  lines.push(`| packets sent (UDP datagrams + TCP messages) | ${r.packets.toLocaleString('en-US')} in ${r.durationS.toFixed(1)} s (${Math.round(r.packets / r.durationS).toLocaleString('en-US')}/s), seed ${r.seed} |`);
  lines.push(`| by origin | valid ${r.kinds.valid}, seed ${r.kinds.seed}, mutated ${r.kinds.mutated}, garbage ${r.kinds.garbage}, header+garbage ${r.kinds['header+garbage']} (UDP only) |`);
  lines.push(`| UDP | ${r.udp.sent} sent, ${r.udp.answerable} answerable, ${r.udp.replies} replies, ${r.udp.unanswerableSent} unanswerable (< 12 octets or QR = 1) sent, ${r.udp.lateReplies} late replies |`);
  lines.push(`| TCP | ${r.tcp.sessions} connections, ${r.tcp.messages} messages, ${r.tcp.replies} replies of ${r.tcp.expectedReplies} expected by simulating the framing, ${r.tcp.serverClosedEarly} connections closed by the server on a bad frame, ${r.tcp.resets} reset before every reply was read |`);
  lines.push(`| largest UDP reply / request | ${r.udp.maxRatio.toFixed(2)} x (${r.udp.maxRatioSample.slice(0, 200)}) |`);
  lines.push(`| reply RCODEs | ${Object.entries(r.replyRcodes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  lines.push(`| violations | ${totalViolations(r) === 0 ? '0' : Object.entries(r.violations).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  lines.push(`| probes during the run (UDP + TCP, every 2 s) | ${r.probes.sent} sent, ${r.probes.failed} failed, p99 ${r.probes.p99Ms.toFixed(1)} ms, max ${r.probes.maxMs.toFixed(1)} ms |`);
  lines.push(`| server alive at the end, normal query answered | ${r.serverAlive ? 'yes' : '**no**'}; UDP ${r.finalCheck.udp}, TCP ${r.finalCheck.tcp} |`);
  if (extra.unhandled !== undefined) lines.push(`| 'Unhandled' / 'uncaught' in the server output | ${extra.unhandled} |`);
  if (extra.errorLines !== undefined) lines.push(`| error/fatal log lines (handler errors: "query failed, answered SERVFAIL") | ${extra.errorLines} (${extra.handlerErrorLines ?? 0}) |`);
  if (r.rss) {
    lines.push(`| RSS start / after warm-up (${r.rss.warmupAtS.toFixed(0)} s) / max / end | ${mib(r.rss.startKb)} / ${mib(r.rss.warmupKb)} / ${mib(r.rss.maxKb)} / ${mib(r.rss.endKb)} MiB |`);
    lines.push(`| RSS growth warm-up -> end (limit 10 %) | ${r.rss.growthPct.toFixed(1)} % |`);
  }
  if (extra.heap) {
    const h = extra.heap;
    lines.push(
      `| V8 heap live after each full GC (--trace-gc Mark-Compact) | ${h.count} full GCs; first after warm-up ${h.firstAfterWarmupMb?.toFixed(1) ?? '-'} MB, last ${h.lastMb?.toFixed(1) ?? '-'} MB, min / max after warm-up ${h.minMb?.toFixed(1) ?? '-'} / ${h.maxMb?.toFixed(1) ?? '-'} MB |`,
    );
  }
  if (extra.command) lines.push('', '```sh', extra.command, '```');
  const samples = Object.entries(r.samples);
  if (samples.length > 0) {
    lines.push('', 'Samples (hex):');
    for (const [kind, list] of samples) {
      for (const s of list ?? []) lines.push(`- ${kind}: ${s.detail}; query ${s.query.slice(0, 600)}${s.reply ? `; reply ${s.reply.slice(0, 600)}` : ''}`);
    }
  }
  return lines.join('\n');
}

// ----------------------------------------------------------------------------------------------
// main: georoute as a real process

export interface HeapFigures {
  count: number;
  firstAfterWarmupMb: number | null;
  lastMb: number | null;
  minMb: number | null;
  maxMb: number | null;
  /** [seconds since the run started, live MB, committed MB] */
  series: Array<[number, number, number]>;
}

/**
 * Live V8 heap after each full (Mark-Compact) GC, from `node --trace-gc` output: a leak shows as
 * a rising floor, a bounded cache as a plateau. Times are seconds since the run started.
 */
export function heapAfterFullGc(output: string, spawnedAt: number, runStartedAt: number, warmupAtS: number): HeapFigures {
  const series: Array<[number, number, number]> = [];
  for (const m of output.matchAll(/\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/g)) {
    series.push([(spawnedAt + Number(m[1]) - runStartedAt) / 1000, Number(m[2]), Number(m[3])]);
  }
  const after = series.filter(([t]) => t >= warmupAtS).map(([, mb]) => mb);
  return {
    count: series.length,
    firstAfterWarmupMb: after[0] ?? null,
    lastMb: after[after.length - 1] ?? null,
    minMb: after.length ? Math.min(...after) : null,
    maxMb: after.length ? Math.max(...after) : null,
    series,
  };
}

function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
}

interface Spawned {
  child: ChildProcess;
  spawnedAt: number;
  dnsPort: number;
  output: string[];
  stop(): Promise<void>;
}

/** test/support/process-app.ts, without its import of the application (this file compiles alone). */
function startGeoroute(root: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Spawned> {
  const spawnedAt = Date.now();
  // FUZZ_NODE_ARGS: extra node options for the server (e.g. a preload with -r, --max-old-space-size).
  const extra = (process.env.FUZZ_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--trace-gc', ...extra, path.join(root, 'dist/src/main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', DNS_PORT: '0', LOG_LEVEL: 'info', RRL_EXEMPT: '127.0.0.0/8,::1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`georoute did not start within ${timeoutMs} ms:\n${output.join('')}`)), timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`georoute exited with ${code}:\n${output.join('')}`));
    };
    let ready = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (ready) return;
      const m = /HTTP http:\/\/[^:]+:(\d+) DNS [^:]+:(\d+)/.exec(output.join(''));
      if (m) {
        ready = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({
          child,
          spawnedAt,
          dnsPort: Number(m[2]),
          output,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
            }),
        });
      }
    });
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString('utf8')));
    child.once('exit', onExit);
  });
}

function parseArgs(argv: readonly string[]): Required<Pick<FuzzOptions, 'seed' | 'packets' | 'seconds' | 'udpWorkers' | 'tcpWorkers' | 'tcpShare'>> & { port: number } {
  const a = { seed: 1, packets: 1_000_000, seconds: 600, udpWorkers: 32, tcpWorkers: 16, tcpShare: 0.2, port: 0 };
  const names: Record<string, keyof typeof a> = {
    '--seed': 'seed', '--packets': 'packets', '--seconds': 'seconds', '--udp-workers': 'udpWorkers', '--tcp-workers': 'tcpWorkers',
    '--tcp-share': 'tcpShare', '--port': 'port',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    const v = Number(argv[i + 1]);
    if (key === undefined || !Number.isFinite(v) || v < 0) {
      throw new Error(`usage: dns-fuzz [--packets N] [--seconds S] [--seed N] [--udp-workers N] [--tcp-workers N] [--tcp-share F] [--port P] (bad ${argv[i]})`);
    }
    a[key] = v;
  }
  return a;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  let server: Spawned | null = null;
  let dataDir: string | null = null;
  let port = args.port;
  if (port === 0) {
    dataDir = path.join(root, 'bench/out', `fuzz-data-${process.pid}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    server = await startGeoroute(root, { DATA_DIR: dataDir, ADMIN_TOKEN: randomBytes(16).toString('hex') });
    port = server.dnsPort;
    log(`fuzz: georoute pid ${server.child.pid}, DNS 127.0.0.1:${port}, DATA_DIR ${path.relative(root, dataDir)}`);
  }
  const child = server?.child;
  try {
    const report = await runFuzz(
      {
        port,
        pid: child?.pid,
        alive: child ? () => child.exitCode === null && child.signalCode === null : undefined,
      },
      {
        seed: args.seed,
        packets: args.packets,
        seconds: args.seconds,
        udpWorkers: args.udpWorkers,
        tcpWorkers: args.tcpWorkers,
        tcpShare: args.tcpShare,
        // the demo configuration: a London client goes to eu-west-1
        probe: { name: 'app.example.com', subnet: '81.2.69.0/24', expect: server ? '198.51.100.10' : undefined },
        log,
      },
    );
    const output = server ? server.output.join('') : '';
    const unhandled = server ? (output.match(/unhandled|uncaught/gi) ?? []).length : undefined;
    const errorLines = server ? output.split('\n').filter((l) => /"level":(50|60)/.test(l)).length : undefined;
    const handlerErrorLines = server ? (output.match(/query failed, answered SERVFAIL/g) ?? []).length : undefined;
    const heap = server && report.rss ? heapAfterFullGc(output, server.spawnedAt, report.startedAt, report.rss.warmupAtS) : undefined;
    const outDir = path.join(root, 'bench/out');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `fuzz-report-seed${args.seed}.json`), JSON.stringify({ ...report, unhandled, errorLines, handlerErrorLines, heap }, null, 2));
    if (server) fs.writeFileSync(path.join(outDir, `fuzz-server-seed${args.seed}.log`), output);
    const command = `bench/fuzz.sh --packets ${args.packets} --seconds ${args.seconds} --seed ${args.seed}`;
    process.stdout.write(`\n### DNS fuzzing (${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'})\n\n${formatReport(report, { command, unhandled, errorLines, handlerErrorLines, heap })}\n`);
    const failures: string[] = [];
    if (totalViolations(report) > 0) failures.push(`${totalViolations(report)} violations`);
    if (!report.serverAlive) failures.push('the server exited');
    if (!report.finalCheck.ok) failures.push(`final query: UDP ${report.finalCheck.udp}, TCP ${report.finalCheck.tcp}`);
    if (unhandled) failures.push(`${unhandled} unhandled/uncaught in the server output`);
    if (handlerErrorLines) failures.push(`${handlerErrorLines} handler errors (SERVFAIL on an exception)`);
    if (report.rss && report.rss.growthPct >= 10) failures.push(`RSS grew ${report.rss.growthPct.toFixed(1)} % after warm-up`);
    if (report.packets < args.packets && report.durationS < args.seconds - 1) failures.push(`only ${report.packets} packets sent`);
    if (failures.length > 0) log(`fuzz: FAILED: ${failures.join('; ')}`);
    else log('fuzz: all checks passed');
    return failures.length === 0 ? 0 : 1;
  } finally {
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`fuzz: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(2);
    },
  );
}
