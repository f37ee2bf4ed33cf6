#!/usr/bin/env node
// DnsResponder.respond() without sockets, spread against one repeated subnet, on a given
// geolocation database: the JavaScript (and memory) share of bench/spread.sh's two cases, in CPU
// time of this process.
//
//   node bench/lib/spread-micro.mjs BUILD_DIR DB.mmdb SUBNETS.tsv [--runs 5] [--per-run 200000]
//
// Uses the spec fixture zone (test-fixtures.js, service app.example.com); tables preloaded as
// the server does after start. Each spread run takes the next --per-run subnets of the file (a
// subnet is never asked twice while the file lasts); the single case asks the file's first subnet.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { buildQuery } from './dnswire.mjs';

const [buildArg, dbFile, subnetsFile, ...rest] = process.argv.slice(2);
const opts = Object.fromEntries(rest.reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const runs = Number(opts.runs ?? 5);
const perRun = Number(opts['per-run'] ?? 200000);
const require = createRequire(path.join(path.resolve(buildArg), 'src', 'x.js'));
const { DnsResponder } = require('./dns/responder.js');
const { fixtureSnapshot } = require('./dns/test-fixtures.js');
const { GeoLocator } = require('./geo/geo-locator.js');

const locator = await GeoLocator.open(dbFile);
const responder = new DnsResponder({ classifier: () => locator.classifier });
responder.setSnapshot(fixtureSnapshot());
const t0 = Date.now();
while (!locator.classifier.fill(100000) || !responder.fillRanking(100000));
console.log(`preload: ${Date.now() - t0} ms, ${locator.classifier.classes.size} classes, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);

const subnets = fs.readFileSync(subnetsFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
const spread = subnets.map((ecs, i) => buildQuery({ id: i & 0xffff, name: 'app.example.com', type: 'A', ecs }));
const single = [buildQuery({ id: 1, name: 'app.example.com', type: 'A', ecs: subnets[0] })];
const peer = { address: '127.0.0.1', family: 4 };
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
let next = 0;
let sink = 0;
function run(queries) {
  const t = cpu();
  for (let i = 0; i < perRun; i++) {
    const reply = responder.respond(queries[next++ % queries.length], peer, 'udp');
    sink += reply === null ? 0 : reply.length;
  }
  return (cpu() - t) / perRun;
}
// warm the JIT on both
run(single);
run(spread);
const s = [];
const o = [];
for (let r = 0; r < runs; r++) {
  s.push(run(spread));
  o.push(run(single));
}
const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`spread ${med(s).toFixed(3)} µs/query, single ${med(o).toFixed(3)} µs/query, difference ${(med(s) - med(o)).toFixed(3)} µs (runs: ${s.map((x) => x.toFixed(2)).join(' ')} | ${o.map((x) => x.toFixed(2)).join(' ')}; ${sink > 0 ? 'ok' : 'no replies!'})`);
