#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by area, so the
// "where the time goes" note can be written from data.
//
//   node bench/lib/profile-summary.mjs FILE.cpuprofile [--top 30] [--from-ms 0] [--to-ms END]
//        [--busy yes]
//
// --from-ms / --to-ms: keep samples in this window (ms after the profile start), e.g. the load
// run only, not start-up. --busy yes: percentages of the non-idle samples.
import * as fs from 'node:fs';

const file = process.argv[2];
const opts = Object.fromEntries(process.argv.slice(3).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const top = Number(opts.top ?? 30);
const fromUs = Number(opts['from-ms'] ?? 0) * 1000;
const toUs = opts['to-ms'] === undefined ? Infinity : Number(opts['to-ms']) * 1000;
const busyOnly = opts.busy === 'yes';
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
let t = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  if (t - profile.startTime < fromUs || t - profile.startTime > toUs) continue;
  const id = profile.samples[i];
  if (busyOnly && byId.get(id).callFrame.functionName === '(idle)') continue;
  self.set(id, (self.get(id) ?? 0) + 1);
  total++;
}

const byFunction = new Map();
const byArea = new Map();
for (const [id, count] of self) {
  const frame = byId.get(id).callFrame;
  const url = frame.url.replace(/^file:\/\//, '');
  const short = url.replace(/.*\/node_modules\//, 'nm:').replace(/.*\/(dist|build)\/src\//, 'src:');
  const key = `${frame.functionName || '(anonymous)'} ${short ? `${short}:${frame.lineNumber + 1}` : ''}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  byArea.set(area(frame, url), (byArea.get(area(frame, url)) ?? 0) + count);
}

const pct = (n) => ((100 * n) / total).toFixed(1).padStart(5) + '%';
console.log(`samples: ${total}${busyOnly ? ' non-idle' : ''} (interval ~${Math.round((profile.endTime - profile.startTime) / profile.samples.length)} µs; profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s)`);
console.log('\n-- by area (self time)');
for (const [k, v] of [...byArea].sort((a, b) => b[1] - a[1])) console.log(`${pct(v)}  ${k}`);
console.log(`\n-- top ${top} functions (self time)`);
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);

function area(frame, url) {
  const name = frame.functionName;
  if (name === '(idle)') return 'idle (waiting in epoll)';
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return '(program): V8/libuv native, not attributed to JS';
  if (url.includes('/src/dns/')) return 'georoute src/dns';
  if (url.includes('/src/geo/')) return 'georoute src/geo';
  if (url.includes('/src/routing/')) return 'georoute src/routing (decide)';
  if (url.includes('/src/')) return 'georoute other';
  if (url.includes('node_modules/maxmind') || url.includes('node_modules/mmdb-lib')) return 'maxmind / mmdb-lib';
  if (url.includes('node_modules/ipaddr.js')) return 'ipaddr.js';
  if (url.includes('node_modules')) return 'other node_modules';
  if (url.startsWith('node:') || url === '' ) return `node core${name ? '' : ''} (dgram, net, events, native)`;
  return url;
}
