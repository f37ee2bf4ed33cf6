#!/usr/bin/env node
// The ceiling for any DNS server on node:dgram: answers every datagram with one pre-encoded
// reply (A 10.0.0.1 for app.example.test, the query's ID copied in), no parsing, no look-up.
//
//   node bench/lib/bare-dgram.mjs PORT [--lookup dns|sync] [--workers N]
//
// --lookup dns: socket.send() with Node's default lookup (dns.lookup; one process.nextTick per
//   send even for an IP literal). --lookup sync: a lookup that hands IP literals straight back,
//   so the send happens inside the 'message' handler (what georoute's UdpListener does).
// --workers N: N node:cluster workers sharing the one UDP socket (Node 20 has no reusePort).
// Prints "ready PORT" when bound.
import cluster from 'node:cluster';
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';

const port = Number(process.argv[2]);
const opts = Object.fromEntries(process.argv.slice(3).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const workers = Number(opts.workers ?? 1);

if (workers > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (m) => {
      if (m === 'ready' && ++ready === workers) console.log(`ready ${port} (${workers} workers)`);
    });
  }
  const stop = () => {
    for (const w of Object.values(cluster.workers)) w.kill();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  // Header (ID patched per query) + question app.example.test A IN + one A RR (pointer, TTL 30).
  const reply = Buffer.from(
    '0000' + '8400' + '0001000100000000' + '03617070076578616d706c65047465737400' + '00010001' + 'c00c000100010000001e00040a000001',
    'hex',
  );
  const syncLookup = (host, family, cb) => (net.isIP(host) !== 0 ? cb(null, host, family) : dns.lookup(host, family, cb));
  const socket = dgram.createSocket({ type: 'udp4', ...(opts.lookup === 'sync' ? { lookup: syncLookup } : {}) });
  socket.on('message', (msg, rinfo) => {
    const out = Buffer.allocUnsafe(reply.length);
    reply.copy(out);
    out[0] = msg[0];
    out[1] = msg[1];
    socket.send(out, rinfo.port, rinfo.address);
  });
  // In a cluster worker, exclusive: false shares the primary's socket.
  socket.bind({ port, address: '127.0.0.1', exclusive: workers <= 1 }, () => {
    if (workers > 1) process.send('ready');
    else console.log(`ready ${port}`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
