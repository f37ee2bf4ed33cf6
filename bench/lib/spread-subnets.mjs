#!/usr/bin/env node
// Draws N distinct client /24s (IPv4) or /48s (IPv6) that a database places (a record with
// coordinates at the prefix's first address), for the spread load: every query its own subnet.
//
//   node bench/lib/spread-subnets.mjs --db FILE.mmdb --count 1000000 [--family 4|6] [--prefix 24]
//        [--seed 11] > subnets.tsv
//
// Output, one per line: "a.b.c.0/24<TAB>country" (or "2a01:4f8:1::/48<TAB>country"). Seeded: the
// same arguments give the same list. IPv6 prefixes are drawn from the allocated 2000::/3 space.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { prng } from './dnswire.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'package.json'));
const { Reader } = require('maxmind');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const reader = new Reader(fs.readFileSync(args.db));
const count = Number(args.count ?? 1000000);
const family = Number(args.family ?? 4);
const prefix = Number(args.prefix ?? (family === 4 ? 24 : 48));
const random = prng(Number(args.seed ?? 11));
const seen = new Set();
const out = [];
let tries = 0;
while (out.length < count) {
  if (++tries > count * 200) throw new Error(`only ${out.length} located subnets found in ${tries} draws`);
  let text;
  if (family === 4) {
    const v = (Math.floor(random() * 0x100000000) >>> (32 - prefix)) << (32 - prefix) >>> 0;
    text = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  } else {
    // 2000::/3, then random bits up to the prefix (48 or 56).
    const groups = [0x2000 | Math.floor(random() * 0x2000), Math.floor(random() * 0x10000), Math.floor(random() * 0x10000), prefix > 48 ? Math.floor(random() * 0x100) << 8 : 0];
    text = `${groups.map((g) => g.toString(16)).join(':')}::`;
  }
  const key = text;
  if (seen.has(key)) continue;
  let record;
  try {
    record = reader.get(text);
  } catch {
    continue;
  }
  const latitude = record?.location?.latitude ?? record?.latitude;
  if (typeof latitude !== 'number') continue;
  seen.add(key);
  out.push(`${text}/${prefix}\t${record?.country?.iso_code ?? record?.country_code ?? '-'}`);
}
process.stdout.write(out.join('\n') + '\n');
