#!/usr/bin/env node
// Lists the IPv4 networks that have a record in an MMDB file, by walking its search tree
// (MaxMind DB format 2.0: nodes of two records, 24/28/32-bit records, IPv4 under ::/96 in an
// IPv6 tree). The record of each network is read with the maxmind package.
//
//   node bench/lib/mmdb-networks.mjs FILE.mmdb [--max-prefix 32]
//
// Output, one per line: "a.b.c.d/n<TAB>country<TAB>latitude,longitude" (country "-" and no
// coordinates when the record has none). Used to spread the comparison's ECS load over every
// place MaxMind's small test database knows.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'package.json'));
const { Reader } = require('maxmind');

const file = process.argv[2];
const maxPrefix = Number(process.argv[4] ?? 32);
const buf = fs.readFileSync(file);
const reader = new Reader(buf);
const { nodeCount, recordSize, ipVersion } = reader.metadata;
const nodeBytes = (recordSize * 2) / 8;

function record(node, bit) {
  const base = node * nodeBytes;
  if (recordSize === 24) {
    const o = base + bit * 3;
    return (buf[o] << 16) | (buf[o + 1] << 8) | buf[o + 2];
  }
  if (recordSize === 28) {
    if (bit === 0) return (((buf[base + 3] & 0xf0) << 20) | (buf[base] << 16) | (buf[base + 1] << 8) | buf[base + 2]) >>> 0;
    return (((buf[base + 3] & 0x0f) << 24) | (buf[base + 4] << 16) | (buf[base + 5] << 8) | buf[base + 6]) >>> 0;
  }
  return buf.readUInt32BE(base + bit * 4);
}

// The IPv4 root: 96 left turns from the root of an IPv6 tree.
let start = 0;
if (ipVersion === 6) {
  for (let i = 0; i < 96 && start < nodeCount; i++) start = record(start, 0);
}

const out = [];
(function walk(node, prefix, depth) {
  for (let bit = 0; bit < 2; bit++) {
    const value = record(node, bit);
    const net = depth === 0 ? 0 : prefix;
    const next = (net | (bit << (31 - depth))) >>> 0;
    if (value < nodeCount) {
      if (depth + 1 < 32) walk(value, next, depth + 1);
    } else if (value > nodeCount && depth + 1 <= maxPrefix) {
      out.push([next, depth + 1]);
    }
  }
})(start, 0, 0);

for (const [n, bits] of out) {
  const address = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  const r = reader.get(address) ?? {};
  const country = r.country?.iso_code ?? r.registered_country?.iso_code ?? r.country_code ?? '-';
  const lat = r.location?.latitude ?? r.latitude;
  const lon = r.location?.longitude ?? r.longitude;
  process.stdout.write(`${address}/${bits}\t${country}\t${lat !== undefined ? `${lat},${lon}` : ''}\n`);
}
