#!/usr/bin/env node
// A paced UDP DNS client for bench/rrl.sh: from its own source address, sends app.example.com A
// at a fixed rate for a number of seconds and counts what comes back: full answers, truncated
// (TC, "slipped") replies, and nothing.
//
//   node bench/lib/udp-client.mjs --port P --local 127.0.1.2 --rate 50 --seconds 10
//        [--ecs spread|none] [--name app.example.com]
//
// --ecs spread (default): one ECS /24 per query from 12,800 subnets, as a resolver with ECS asks;
// --ecs none: the same question every time, no EDNS (a flood of one response).
// Prints one JSON line: {"sent", "answered", "truncated", "lost", "answeredPerSecond"}.
import * as dgram from 'node:dgram';
import { buildQuery } from './dnswire.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const port = Number(args.port);
const rate = Number(args.rate ?? 50);
const seconds = Number(args.seconds ?? 10);
const name = args.name ?? 'app.example.com';
const local = args.local ?? '127.0.1.2';
const spread = (args.ecs ?? 'spread') === 'spread';

const socket = dgram.createSocket('udp4');
socket.on('error', (err) => console.error(`udp-client: ${err.message}`));
let sent = 0;
let answered = 0;
let truncated = 0;
socket.on('message', (msg) => {
  if (msg.length < 12) return;
  if (msg[2] & 0x02) truncated++;
  else answered++;
});
await new Promise((resolve) => socket.bind({ address: local, port: 0 }, resolve));
// Pre-encoded queries; the ID is patched per send.
const templates = [];
for (let i = 0; i < (spread ? 12800 : 1); i++) {
  templates.push(buildQuery({ id: 0, name, type: 'A', ecs: spread ? `${20 + (i % 64)}.${Math.floor(i / 64)}.7.0/24` : null }));
}
const total = Math.round(rate * seconds);
const started = performance.now();
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
  while (sent < due) {
    const q = Buffer.from(templates[sent % templates.length]);
    q.writeUInt16BE(sent & 0xffff, 0);
    socket.send(q, port, '127.0.0.1');
    sent++;
  }
  await new Promise((r) => setTimeout(r, 1));
}
const elapsed = (performance.now() - started) / 1000;
await new Promise((r) => setTimeout(r, 1000));
socket.close();
console.log(JSON.stringify({ sent, answered, truncated, lost: sent - answered - truncated, answeredPerSecond: Math.round(answered / elapsed) }));
