#!/usr/bin/env node
// Writes a dnsperf binary datafile (`dnsperf -B`): every query is a complete DNS message behind a
// 2-octet length (RFC 1035 §4.2.2 framing). dnsperf 2.10 overwrites only the ID, so each query
// can carry its own EDNS Client Subnet option — which its text format (`-E` is global) cannot.
//
//   node bench/lib/make-queries.mjs --out FILE --queries app.example.com:A,cdn.example.com:A
//        ( --subnets FILE.tsv | --random-subnets N | --no-ecs yes ) [--repeat 1] [--seed 7]
//        [--prefix 24] [--edns yes] [--do yes] [--random-names N]
//
// --subnets: one query per (subnet, name:type) pair, the whole list shuffled (seeded) and
//   written --repeat times (reshuffled each time). dnsperf loops over the file, so a subnet
//   comes back once per pass: after the first pass every answer is in georoute's cache.
// --random-subnets N: N distinct random public /N prefixes (not located first), one query each:
//   with N larger than a run sends, every query is a cache miss (locate + decide).
// --no-ecs yes: one query per name:type, no OPT unless --edns yes (then an OPT without ECS).
// --do yes: the DO bit set in every OPT (DNSSEC answers; implies an OPT).
// --random-names N: N queries for distinct random names under the first question's name
//   (`<12 random letters>.<name>`, each asked once: an NXDOMAIN flood of names never seen).
// Prints "queries<TAB>distinct subnets" to stdout.
import * as fs from 'node:fs';
import { buildQuery, prng } from './dnswire.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const random = prng(Number(args.seed ?? 7));
const questions = args.queries.split(',').map((q) => {
  const [name, type = 'A'] = q.split(':');
  return { name, type };
});
const prefix = Number(args.prefix ?? 24);
const repeat = Number(args.repeat ?? 1);

let subnets;
if (args.subnets) {
  subnets = fs
    .readFileSync(args.subnets, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t')[0]);
} else if (args['random-subnets']) {
  subnets = randomSubnets(Number(args['random-subnets']));
} else if (args['no-ecs'] === 'yes') {
  subnets = [null];
} else {
  throw new Error('one of --subnets, --random-subnets, --no-ecs yes is required');
}

const dnssecOk = args.do === 'yes';
const chunks = [];
let total = 0;
if (args['random-names']) {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const base = questions[0];
  questions.length = 0;
  for (let i = 0; i < Number(args['random-names']); i++) {
    let label = '';
    for (let j = 0; j < 12; j++) label += letters[Math.floor(random() * 26)];
    questions.push({ name: `${label}.${base.name}`, type: base.type });
  }
}
for (let r = 0; r < repeat; r++) {
  const pairs = [];
  for (const ecs of subnets) for (const q of questions) pairs.push({ ecs, ...q });
  shuffle(pairs);
  for (const p of pairs) {
    const msg = buildQuery({ id: total & 0xffff, name: p.name, type: p.type, ecs: p.ecs, edns: p.ecs !== null || args.edns === 'yes' || dnssecOk, dnssecOk });
    const frame = Buffer.alloc(2 + msg.length);
    frame.writeUInt16BE(msg.length, 0);
    msg.copy(frame, 2);
    chunks.push(frame);
    total++;
  }
}
fs.writeFileSync(args.out, Buffer.concat(chunks));
process.stdout.write(`${total}\t${subnets[0] === null ? 0 : subnets.length}\n`);

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
}

function randomSubnets(n) {
  const seen = new Set();
  const out = [];
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  while (out.length < n) {
    const v = (Math.floor(random() * 0x100000000) & mask) >>> 0;
    const a = v >>> 24;
    const b = (v >>> 16) & 255;
    // Public unicast only: special ranges are answered without a database look-up.
    if (a === 0 || a === 10 || a === 127 || a >= 224 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254)) continue;
    if ((a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19))) continue;
    if ((a === 192 && b === 0) || (a === 198 && b === 51) || (a === 203 && b === 0)) continue;
    if (seen.has(v)) continue;
    seen.add(v);
    out.push(`${a}.${b}.${(v >>> 8) & 255}.${v & 255}/${prefix}`);
  }
  return out;
}
