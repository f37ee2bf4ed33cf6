#!/usr/bin/env node
// Feeds synthetic latency evidence through POST /v1/measurements for the latency benchmark: for the
// first --networks subnets of a spread list, every region gets --samples RTTs (seeded, per region a
// different spread), so the compiled table holds one /24 row per network (and the roll-ups).
//
//   node bench/lib/feed-latency.mjs --url http://127.0.0.1:8080 --token TOKEN --subnets FILE.tsv
//        --regions us-east,us-west,eu-west --networks 20000 [--samples 1] [--seed 3]
//
// Prints "measurements<TAB>networks<TAB>batches retried after a 503" when done.
import fs from 'node:fs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const regions = args.regions.split(',');
const networks = Number(args.networks ?? 20000);
const samples = Number(args.samples ?? 1);
let seed = Number(args.seed ?? 3);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const subnets = fs.readFileSync(args.subnets, 'utf8').split('\n').filter(Boolean).slice(0, networks).map((l) => l.split('\t')[0]);
const batch = [];
let sent = 0;
let retries = 0;
async function flush() {
  if (batch.length === 0) return;
  let res;
  for (let attempt = 0; ; attempt++) {
    res = await fetch(`${args.url}/v1/measurements`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${args.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ measurements: batch }),
    });
    // 503: the database was busy (the embedded one has one connection; a compilation holds it).
    if (res.status !== 503 || attempt === 30) break;
    retries++;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (res.status !== 202) throw new Error(`POST /v1/measurements: ${res.status} ${await res.text()}`);
  const body = await res.json();
  if (body.accepted !== batch.length) throw new Error(`only ${body.accepted} of ${batch.length} accepted: ${JSON.stringify(body)}`);
  sent += batch.length;
  batch.length = 0;
}
for (const subnet of subnets) {
  for (const region of regions) {
    for (let s = 0; s < samples; s++) {
      batch.push({ client: subnet, region, rttMs: Math.round((5 + random() * 250) * 10) / 10 });
      if (batch.length === 500) await flush();
    }
  }
}
await flush();
console.log(`${sent}\t${subnets.length}\t${retries}`);
