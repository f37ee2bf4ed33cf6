#!/usr/bin/env node
// Agreement of bench/redirect.sh: asks two redirect servers the same path for the same clients
// (X-Forwarded-For) and compares the status and Location of the answers.
//
//   node bench/lib/redirect-agree.mjs --a http://127.0.0.1:P1/r/www.web.test/login --b http://... \
//        --clients FILE [--count 500]
//
// Prints one JSON line: { asked, same, different, examples: [...] }.
import * as fs from 'node:fs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const clients = fs.readFileSync(args.clients, 'utf8').split('\n').filter(Boolean).slice(0, Number(args.count ?? 500));

async function ask(url, ip) {
  const res = await fetch(url, { redirect: 'manual', headers: { 'X-Forwarded-For': ip } });
  await res.arrayBuffer();
  return `${res.status} ${res.headers.get('location')}`;
}

let same = 0;
const examples = [];
for (const ip of clients) {
  const [a, b] = await Promise.all([ask(args.a, ip), ask(args.b, ip)]);
  if (a === b) same++;
  else if (examples.length < 5) examples.push({ ip, a, b });
}
console.log(JSON.stringify({ asked: clients.length, same, different: clients.length - same, examples }));
