#!/usr/bin/env node
// The latency policy's share of a DNS query, without sockets: DnsResponder.respond() over ECS
// queries from SUBNETS (every query its own /24), for a proximity and a latency service over the
// same five regions, in CPU time of this process (process.cpuUsage: other jobs on the shared
// machine count less than in a dnsperf run). The latency table is made the way the server makes
// it: synthetic samples for the first --networks subnets (one per region), located by the bundled
// database, aggregated (aggregate.ts) and compiled (trust: one sample, one source).
//
//   node bench/lib/latency-micro.mjs BUILD_DIR SUBNETS.tsv [--networks 20000] [--runs 7]
//
// Prints one line per service and run, then the medians and their ratio as JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { buildQuery } from './dnswire.mjs';

const buildDir = path.resolve(process.argv[2]);
const subnetsFile = process.argv[3];
const opts = Object.fromEntries(process.argv.slice(4).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const networks = Number(opts.networks ?? 20000);
const runs = Number(opts.runs ?? 7);

const require = createRequire(path.join(buildDir, 'src', 'x.js'));
const { DnsResponder } = require('./dns/responder.js');
const { GeoLocator } = require('./geo/geo-locator.js');
const { buildSnapshot } = require('./routing/snapshot.js');
const { placeKey } = require('./routing/latency.js');
const { aggregate, compileEvidence } = require('./measurements/aggregate.js');

const REGIONS = [
  ['us-east', 'US', 39.0, -77.5, '10.0.0.1'], ['us-west', 'US', 45.6, -121.2, '10.0.0.2'], ['eu-west', 'IE', 53.3, -6.3, '10.0.0.3'],
  ['eu-central', 'DE', 50.1, 8.7, '10.0.0.4'], ['ap-northeast', 'JP', 35.7, 139.7, '10.0.0.5'],
].map(([name, countryCode, latitude, longitude, a]) => ({ name, countryCode, latitude, longitude, ipv4: [a], ipv6: [], baseUrl: null }));
const names = REGIONS.map((r) => r.name);
const ZONE = { name: 'example.test', serial: 1, nameservers: ['ns1.example.test'], hostmaster: 'hostmaster.example.test', ttl: 60, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 30, records: [] };
const services = [
  { fqdn: 'app.example.test', policy: 'proximity', regions: names, residency: 'none', ttl: 30 },
  { fqdn: 'lat.example.test', policy: 'latency', regions: names, residency: 'none', ttl: 30 },
];

const subnets = fs.readFileSync(subnetsFile, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
const locator = await GeoLocator.openBundled();
let seed = 3;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const now = Date.now();
const samples = [];
let id = 0;
for (const subnet of subnets.slice(0, networks)) {
  const [a, b, c] = subnet.split('.').map(Number);
  const where = locator.locate(`${a}.${b}.${c}.0`);
  for (const region of names) {
    samples.push({ id: ++id, family: 4, network: a * 65536 + b * 256 + c, placeKey: placeKey(where), country: where.country, region, rttMs: Math.round((5 + random() * 250) * 10) / 10, sourceId: 'token:bench', sourceNet: 'token:bench', observedAt: now });
  }
}
let t0 = Date.now();
const latency = compileEvidence(aggregate(samples, { now, halfLifeMs: 6 * 3600000, sourceCap: 50 }), 1, 1);
const aggregateMs = Date.now() - t0;
t0 = Date.now();
const snapshot = buildSnapshot({ zones: [ZONE], regions: REGIONS, services, latency }, 1);
const compileMs = Date.now() - t0;
console.log(`evidence: ${samples.length} samples -> ${latency.entries.length} networks (aggregate ${aggregateMs} ms, table compile ${compileMs} ms)`);

const responder = new DnsResponder({ classifier: () => locator.classifier });
responder.setSnapshot(snapshot);
while (!locator.classifier.fill(100000) || !responder.fillRanking(100000));
const queries = {
  proximity: subnets.map((ecs, i) => buildQuery({ id: i, name: 'app.example.test', type: 'A', ecs })),
  latency: subnets.map((ecs, i) => buildQuery({ id: i, name: 'lat.example.test', type: 'A', ecs })),
};
const peer = { address: '127.0.0.1', family: 4 };
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
let sink = 0;
// Warm: two passes of each (classes, ranking rows, per-class latency rows, JIT).
for (let pass = 0; pass < 2; pass++) for (const kind of ['proximity', 'latency']) for (const q of queries[kind]) sink += responder.respond(q, peer, 'udp')?.length ?? 0;
const results = { proximity: [], latency: [] };
for (let r = 0; r < runs; r++) {
  for (const kind of r % 2 === 0 ? ['proximity', 'latency'] : ['latency', 'proximity']) {
    const list = queries[kind];
    const start = cpu();
    for (const q of list) sink += responder.respond(q, peer, 'udp')?.length ?? 0;
    const us = (cpu() - start) / list.length;
    results[kind].push(us);
    console.log(`${kind} run ${r + 1}: ${us.toFixed(3)} µs/query`);
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const p = median(results.proximity);
const l = median(results.latency);
console.log(JSON.stringify({ proximityUs: +p.toFixed(3), latencyUs: +l.toFixed(3), extraUs: +(l - p).toFixed(3), costRatio: +(l / p).toFixed(3), aggregateMs, compileMs, networks: latency.entries.length, replies: sink > 0 }));
