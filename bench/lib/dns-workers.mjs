#!/usr/bin/env node
// PROTOTYPE, not part of georoute: multi-process UDP serving with node:cluster, to measure
// whether several processes pay on this machine before the design is wired into the app.
//
//   node bench/lib/dns-workers.mjs --build BUILD_DIR --data DATA_DIR --port PORT --workers N
//        [--geoip FILE.mmdb] [--pids-file FILE]
//
// The design it tries (see bench/RESULTS.md): the primary owns the database and HTTP (here: a
// running georoute, whose SnapshotStore writes every snapshot's input to DATA_DIR/snapshot.json);
// it sends each snapshot's serialisable input {version, builtAt, input} to every worker over IPC;
// each worker rebuilds the same RoutingSnapshot with buildSnapshot() and swaps it into its own
// DnsResponder (own GeoLocator, own answer cache). Workers share one UDP socket: on Node 20 dgram
// has no reusePort, so cluster's shared handle is used (bind with exclusive: false; the primary
// creates the socket, every worker receives on it). UDP only: TCP stays with the app.
// Prints "ready PORT N workers" once every worker has applied the first snapshot and bound.
import cluster from 'node:cluster';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const opts = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const port = Number(opts.port);
const workers = Number(opts.workers ?? 2);
const snapshotFile = path.join(path.resolve(opts.data), 'snapshot.json');

if (cluster.isPrimary) {
  let current = null;
  let mtime = 0;
  const read = () => {
    const stat = fs.statSync(snapshotFile);
    if (stat.mtimeMs === mtime) return false;
    mtime = stat.mtimeMs;
    const file = JSON.parse(fs.readFileSync(snapshotFile, 'utf8'));
    current = { type: 'snapshot', version: file.version, builtAt: file.builtAt, input: file.input };
    return true;
  };
  read();
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    worker.on('message', (m) => {
      // A worker asks once its locator is open (a message sent earlier would find no listener).
      if (m?.type === 'hello') worker.send(current);
      if (m?.type === 'ready' && ++ready === workers) {
        if (opts['pids-file']) fs.writeFileSync(opts['pids-file'], Object.values(cluster.workers).map((w) => w.process.pid).join('\n') + '\n');
        console.log(`ready ${port} ${workers} workers (snapshot version ${current.version})`);
      }
      if (m?.type === 'applied') console.log(`worker ${worker.process.pid} serves snapshot version ${m.version}`);
    });
  }
  // Snapshot swaps reach every worker: the app writes snapshot.json after each build.
  fs.watchFile(snapshotFile, { interval: 250 }, () => {
    try {
      if (read()) for (const w of Object.values(cluster.workers)) w.send(current);
    } catch (err) {
      console.error(`snapshot.json unreadable, workers keep their snapshot: ${err.message}`);
    }
  });
  const stop = () => {
    fs.unwatchFile(snapshotFile);
    for (const w of Object.values(cluster.workers)) w.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const require = createRequire(path.join(path.resolve(opts.build), 'src', 'x.js'));
  const { DnsResponder } = require('./dns/responder.js');
  const { literalLookup } = require('./dns/udp-server.js');
  const { GeoLocator } = require('./geo/geo-locator.js');
  const { decide } = require('./routing/engine.js');
  const { buildSnapshot } = require('./routing/snapshot.js');

  const locator = opts.geoip ? await GeoLocator.open(opts.geoip) : await GeoLocator.openBundled();
  const responder = new DnsResponder({ locator, decide, onError: (err) => console.error(`query failed: ${err?.message}`) });
  let socket = null;
  const peer = { address: '', family: 4 };

  const bind = () => {
    socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
    socket.on('message', (msg, rinfo) => {
      peer.address = rinfo.address;
      const reply = responder.respond(msg, peer, 'udp');
      if (reply !== null) socket.send(reply, rinfo.port, rinfo.address);
    });
    socket.on('error', (err) => console.error(`udp: ${err.message}`));
    socket.bind({ port, address: '127.0.0.1', exclusive: false }, () => process.send({ type: 'ready' }));
  };

  process.on('message', (m) => {
    if (m?.type !== 'snapshot') return;
    try {
      responder.setSnapshot(buildSnapshot(m.input, m.version, new Date(m.builtAt)));
      process.send({ type: 'applied', version: m.version });
    } catch (err) {
      console.error(`snapshot ${m.version} rejected, the previous one stays: ${err.message}`);
    }
    if (socket === null) bind();
  });
  process.on('SIGTERM', () => process.exit(0));
  process.send({ type: 'hello' });
}
