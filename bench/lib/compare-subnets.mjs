#!/usr/bin/env node
// ECS subnets for the peer comparison, from what MaxMind's test database knows.
//
//   node bench/lib/compare-subnets.mjs TEST.mmdb [--unknown 1024] [--located-repeat 4] [--seed 11]
//
// Located: every IPv4 network with a country or coordinates in the database (mmdb-networks.mjs),
// as the /24s inside it when it is /24 or wider (at most 64 per network), else as each of its
// addresses with SOURCE 32 (a /24 around a /29 would start outside it: 216.160.83.0 is unknown).
// Unknown: random public /24s the database does not list (every server answers us-east).
// Located lines are repeated --located-repeat times so about half of the queries are located.
// Output: "subnet<TAB>located|unknown<TAB>country" per line.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { prng } from './dnswire.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../package.json'));
const { Reader } = require('maxmind');

const db = process.argv[2];
const opts = Object.fromEntries(process.argv.slice(3).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const unknownCount = Number(opts.unknown ?? 1024);
const repeat = Number(opts['located-repeat'] ?? 4);
const random = prng(Number(opts.seed ?? 11));
const reader = new Reader(fs.readFileSync(db));

const networks = execFileSync(process.execPath, [path.join(here, 'mmdb-networks.mjs'), db], { encoding: 'utf8' })
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split('\t'))
  .filter(([, country, coords]) => country !== '-' || coords !== '');

const located = [];
for (const [net, country] of networks) {
  const [address, bitsText] = net.split('/');
  const bits = Number(bitsText);
  const base = address.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const text = (n) => `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
  if (bits <= 24) {
    const count = Math.min(2 ** (24 - bits), 64);
    for (let i = 0; i < count; i++) located.push(`${text(base + i * 256)}/24\tlocated\t${country}`);
  } else {
    for (let i = 0; i < 2 ** (32 - bits); i++) located.push(`${text(base + i)}/32\tlocated\t${country}`);
  }
}

const unknown = [];
const seen = new Set();
while (unknown.length < unknownCount) {
  const v = Math.floor(random() * 0x1000000) * 256;
  const a = Math.floor(v / 16777216);
  const b = Math.floor(v / 65536) % 256;
  if (a === 0 || a === 10 || a === 127 || a >= 224 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254)) continue;
  if ((a === 172 && b >= 16 && b < 32) || (a === 192 && (b === 168 || b === 0)) || (a === 198 && (b === 18 || b === 19 || b === 51))) continue;
  if (a === 203 && b === 0) continue;
  const address = `${a}.${b}.${Math.floor(v / 256) % 256}.0`;
  if (seen.has(address) || reader.get(address) !== null) continue;
  seen.add(address);
  unknown.push(`${address}/24\tunknown\t-`);
}

for (let r = 0; r < repeat; r++) for (const line of located) process.stdout.write(line + '\n');
for (const line of unknown) process.stdout.write(line + '\n');
process.stderr.write(`compare subnets: ${located.length} located (x${repeat}), ${unknown.length} unknown\n`);
