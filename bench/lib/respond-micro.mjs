#!/usr/bin/env node
// DnsResponder.respond() in a loop, no sockets: the JavaScript share of a query, per case, in
// CPU time of the process (process.cpuUsage), so other jobs on the machine count less.
//
//   node bench/lib/respond-micro.mjs BUILD_DIR [SUBNETS.tsv] [--iterations 1000000] [--runs 5]
//
// BUILD_DIR: the compiled tree holding src/dns (e.g. bench/out/build, or dist). Uses the spec
// fixture zone (test-fixtures.js) and the bundled DB-IP database. ECS cases rotate over the
// subnets of SUBNETS.tsv (default: 2,048 random public /24s), like the load generator does.
// Service names go through the routing tables (classifier + ranking + select); the "cold" case
// uses a fresh classifier table (every class and ranking row made on first sight).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { buildQuery } from './dnswire.mjs';

const buildDir = path.resolve(process.argv[2] ?? 'bench/out/build');
const rest = process.argv.slice(3);
const subnetsFile = rest[0] && !rest[0].startsWith('--') ? rest.shift() : null;
const opts = Object.fromEntries(rest.reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const iterations = Number(opts.iterations ?? 1_000_000);
const runs = Number(opts.runs ?? 5);

const require = createRequire(path.join(buildDir, 'src', 'x.js'));
const { DnsResponder } = require('./dns/responder.js');
const { fixtureSnapshot } = require('./dns/test-fixtures.js');
const { GeoLocator } = require('./geo/geo-locator.js');

const locator = await GeoLocator.openBundled();
const responder = new DnsResponder({ classifier: () => locator.classifier });
responder.setSnapshot(fixtureSnapshot());
if (opts.preload !== 'no') {
  const t0 = Date.now();
  while (!locator.classifier.fill(100000) || !responder.fillRanking(100000));
  console.log(`preload: ${Date.now() - t0} ms, ${locator.classifier.classes.size} classes`);
}

let subnets;
if (subnetsFile) {
  subnets = fs.readFileSync(subnetsFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
} else {
  subnets = [];
  for (let i = 0; i < 2048; i++) subnets.push(`${20 + (i % 180)}.${(i * 7) & 255}.${(i * 13) & 255}.0/24`);
}
const ecsQueries = subnets.map((ecs, i) => buildQuery({ id: i, name: 'app.example.com', type: 'A', ecs }));
const peer4 = { address: '127.0.0.1', family: 4 };
const socketQuery = buildQuery({ id: 1, name: 'app.example.com', type: 'A' });
const staticQuery = buildQuery({ id: 1, name: 'www.example.com', type: 'A', edns: true });
const nxQuery = buildQuery({ id: 1, name: 'nope.example.com', type: 'A' });
// Distinct /24s for the miss case: far more than the caches keep between clears.
const missQueries = [];
for (let i = 0; i < 200_000; i++) {
  const n = 0x14000000 + i * 256 * 37;
  missQueries.push(buildQuery({ id: i, name: 'app.example.com', type: 'A', ecs: `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.0/24` }));
}

/** CPU time of this process (user + system, µs): on a shared machine, time spent descheduled is not counted. */
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function time(label, queries, n) {
  const results = [];
  let sink = 0;
  let next = 0; // continues across runs: with more queries than n x runs, nothing repeats
  for (let r = 0; r < runs; r++) {
    const len = queries.length;
    const t0 = cpuMicros();
    for (let i = 0; i < n; i++) {
      const reply = responder.respond(queries[next++ % len], peer4, 'udp');
      sink += reply === null ? 0 : reply.length;
    }
    results.push((cpuMicros() - t0) / n);
  }
  results.sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} ${results[Math.floor(runs / 2)].toFixed(3)} µs/query (median of ${runs}; ${sink > 0 ? 'ok' : 'no replies!'})`);
}

// Warm: every ECS subnet answered once, JIT warmed.
for (const q of ecsQueries) responder.respond(q, peer4, 'udp');
time('static hit (www A, EDNS)', [staticQuery], iterations);
time('NXDOMAIN', [nxQuery], iterations);
time('service, socket client', [socketQuery], iterations);
time(`service, ECS over ${subnets.length} subnets`, ecsQueries, iterations);
time('service, a new /24 each', missQueries, Math.floor(missQueries.length / runs));
// The locator alone on new addresses (its own cache never hits: 200,000 distinct addresses).
{
  const addresses = missQueries.map((_, i) => {
    const n = 0x15000000 + i * 256 * 37 + 1;
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  });
  const results = [];
  let next = 0;
  let found = 0;
  const n = Math.floor(addresses.length / runs);
  for (let r = 0; r < runs; r++) {
    const t0 = cpuMicros();
    for (let i = 0; i < n; i++) if (locator.locate(addresses[next++]).found) found++;
    results.push((cpuMicros() - t0) / n);
  }
  results.sort((a, b) => a - b);
  console.log(`${'locator only, new address each'.padEnd(44)} ${results[Math.floor(runs / 2)].toFixed(3)} µs/query (median of ${runs}; ${found} found)`);
}
console.log(JSON.stringify(responder.stats()));
