#!/usr/bin/env node
// Checks DNS answers over UDP, ECS per query.
//
// Against expected answers (from verify-subnets.mjs, i.e. georoute's explain API):
//   node bench/lib/check-answers.mjs --server 127.0.0.1:PORT --expected FILE.jsonl
//        [--sample N] [--seed 3] [--label TEXT]
// Servers against each other (same question, same ECS, to every server):
//   node bench/lib/check-answers.mjs --servers georoute=127.0.0.1:P1,gdnsd=127.0.0.1:P2,...
//        --subnets FILE [--names app.example.test:A] [--detail OUT.tsv]
//   FILE: one subnet per line (first column; "none" = no ECS option, located by the source).
//
// Prints one JSON summary line; exit status 1 when an answer differs or never came.
// Each query is retried twice after 2 s without a reply (the load may be running beside it).
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import { buildQuery, parseReply, prng, rcodeName } from './dnswire.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.slice(2), all[i + 1]]] : acc), []));

class Client {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.socket = dgram.createSocket('udp4');
    this.pending = new Map();
    this.nextId = 1;
    this.socket.on('message', (msg) => {
      if (msg.length < 12) return;
      const id = msg.readUInt16BE(0);
      const p = this.pending.get(id);
      if (p === undefined) return;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(msg);
    });
  }

  async ask(name, type, ecs) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = this.nextId;
      this.nextId = (this.nextId % 65535) + 1;
      const msg = buildQuery({ id, name, type, ecs: ecs === 'none' ? null : ecs, edns: true });
      const reply = await new Promise((resolve) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          resolve(null);
        }, 2000);
        this.pending.set(id, { resolve, timer });
        this.socket.send(msg, this.port, this.host);
      });
      if (reply !== null) return parseReply(reply);
    }
    return null;
  }

  close() {
    this.socket.close();
  }
}

function endpoint(text) {
  const i = text.lastIndexOf(':');
  return [text.slice(0, i), Number(text.slice(i + 1))];
}

async function pool(items, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++];
        await fn(item);
      }
    }),
  );
}

function show(r) {
  if (r === null) return 'no reply';
  return `${rcodeName(r.rcode)} ${r.addresses.join(',') || '-'} scope=${r.ecsScope}`;
}

if (args.expected) {
  let rows = fs.readFileSync(args.expected, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (args.sample && Number(args.sample) < rows.length) {
    const random = prng(Number(args.seed ?? 3));
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows = rows.slice(0, Number(args.sample));
  }
  const client = new Client(...endpoint(args.server));
  let matched = 0;
  let unanswered = 0;
  const mismatches = [];
  await pool(rows, 32, async (row) => {
    const r = await client.ask(row.name, row.type, row.ecs);
    if (r === null) {
      unanswered++;
      return;
    }
    const same = rcodeName(r.rcode) === row.rcode && r.addresses.join(',') === [...row.addresses].sort().join(',');
    if (same) matched++;
    else mismatches.push(`${row.name} ${row.type} ecs=${row.ecs}: got ${show(r)}, explain API says ${row.rcode} ${row.addresses.join(',')}`);
  });
  client.close();
  const summary = { label: args.label ?? null, checked: rows.length, matched, mismatched: mismatches.length, unanswered, examples: mismatches.slice(0, 5) };
  process.stdout.write(JSON.stringify(summary) + '\n');
  process.exit(mismatches.length > 0 || unanswered > 0 ? 1 : 0);
} else if (args.servers) {
  const servers = args.servers.split(',').map((s) => {
    const [label, where] = s.split('=');
    return { label, client: new Client(...endpoint(where)) };
  });
  const subnets = fs
    .readFileSync(args.subnets, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t')[0]);
  const questions = (args.names ?? 'app.example.test:A').split(',').map((q) => q.split(':'));
  const jobs = [];
  for (const ecs of [...new Set(subnets)]) for (const [name, type = 'A'] of questions) jobs.push({ ecs, name, type });
  const detail = [];
  let agree = 0;
  let differ = 0;
  let unanswered = 0;
  const scopeDiffers = { count: 0, examples: [] };
  const examples = [];
  await pool(jobs, 16, async (job) => {
    const answers = [];
    for (const s of servers) answers.push(await s.client.ask(job.name, job.type, job.ecs));
    if (answers.some((a) => a === null)) unanswered++;
    const keys = answers.map((a) => (a === null ? 'no reply' : `${rcodeName(a.rcode)} ${a.addresses.join(',')}`));
    const same = keys.every((k) => k === keys[0]) && answers[0] !== null;
    if (same) agree++;
    else {
      differ++;
      if (examples.length < 10) examples.push(`${job.name} ${job.type} ecs=${job.ecs}: ` + servers.map((s, i) => `${s.label} ${show(answers[i])}`).join(' | '));
    }
    const scopes = answers.map((a) => (a === null ? null : a.ecsScope));
    if (same && !scopes.every((x) => x === scopes[0])) {
      scopeDiffers.count++;
      if (scopeDiffers.examples.length < 5) scopeDiffers.examples.push(`ecs=${job.ecs}: ` + servers.map((s, i) => `${s.label} ${scopes[i]}`).join(' | '));
    }
    detail.push([job.ecs, job.name, job.type, ...answers.map(show)].join('\t'));
  });
  for (const s of servers) s.client.close();
  if (args.detail) fs.writeFileSync(args.detail, ['ecs\tname\ttype\t' + servers.map((s) => s.label).join('\t'), ...detail.sort()].join('\n') + '\n');
  const summary = { questions: jobs.length, agree, differ, unanswered, examples, sameAnswerDifferentScope: scopeDiffers };
  process.stdout.write(JSON.stringify(summary) + '\n');
  process.exit(differ > 0 || unanswered > 0 ? 1 : 0);
} else {
  throw new Error('--expected or --servers is required (see the header)');
}
