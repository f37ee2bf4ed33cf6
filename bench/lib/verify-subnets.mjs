#!/usr/bin/env node
// Asks georoute's explain API where each subnet is and what it answers, and writes the expected
// answers (JSON lines) for check-answers.mjs.
//
//   node bench/lib/verify-subnets.mjs --http http://127.0.0.1:PORT --token-file DATA/admin-token
//        --subnets FILE.tsv --names app.example.com,cdn.example.com [--types A] > expected.jsonl
//
// FILE.tsv: "subnet<TAB>continent..." (pick-subnets.mjs output; only the first column is needed,
// a second column is compared with the continent the API reports). The API is asked with
// client=<the subnet's address>, which is what a DNS query with that ECS option locates.
// Prints a summary to stderr: subnets per continent as the API located them, regions chosen,
// continent disagreements and unlocated subnets. Exits 1 when the API fails, or when a subnet is
// unlocated unless --allow-unlocated yes (the comparison's unknown /24s are unlocated on purpose).
import * as fs from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));
const base = args.http;
const token = fs.readFileSync(args['token-file'], 'utf8').trim();
const names = args.names.split(',');
const types = (args.types ?? 'A').split(',');
const rows = fs
  .readFileSync(args.subnets, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => l.split('\t'));

const jobs = [];
for (const [subnet, continent] of rows) for (const name of names) for (const type of types) jobs.push({ subnet, continent, name, type });

const located = new Map();
const regions = new Map();
let disagreements = 0;
let unlocated = 0;
let failures = 0;
const out = [];
let next = 0;
await Promise.all(Array.from({ length: 16 }, worker));
for (const line of out) process.stdout.write(line + '\n');

const summary = {
  queries: jobs.length,
  subnets: rows.length,
  continentsByApi: Object.fromEntries([...located].sort()),
  regionsChosen: Object.fromEntries([...regions].sort()),
  continentDisagreements: disagreements,
  unlocated,
  apiFailures: failures,
};
process.stderr.write(JSON.stringify(summary) + '\n');
process.exit((unlocated > 0 && args['allow-unlocated'] !== 'yes') || failures > 0 ? 1 : 0);

async function worker() {
  while (next < jobs.length) {
    const job = jobs[next++];
    const address = job.subnet.split('/')[0];
    const url = `${base}/v1/route?fqdn=${encodeURIComponent(job.name)}&client=${encodeURIComponent(address)}&type=${job.type}`;
    let body;
    try {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      body = await res.json();
      if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    } catch (err) {
      failures++;
      process.stderr.write(`explain ${url}: ${err.message}\n`);
      continue;
    }
    const client = body.client ?? {};
    const answer = body.answer ?? {};
    if (client.continent == null) unlocated++;
    if (job.name === names[0] && job.type === types[0]) {
      located.set(client.continent ?? 'unknown', (located.get(client.continent ?? 'unknown') ?? 0) + 1);
      if (job.continent && client.continent !== job.continent) disagreements++;
    }
    const key = `${job.name} ${job.type} -> ${answer.region ?? answer.rcode}`;
    regions.set(key, (regions.get(key) ?? 0) + 1);
    out.push(
      JSON.stringify({
        ecs: job.subnet,
        name: job.name,
        type: job.type,
        rcode: answer.rcode ?? 'NOERROR',
        addresses: [...(answer.addresses ?? [])].sort(),
        region: answer.region ?? null,
        continent: client.continent ?? null,
      }),
    );
  }
}
