#!/usr/bin/env node
// The large-registry half of the routing-tables benchmark, against a running georoute:
//
//   node bench/lib/scale.mjs --http URL --dns PORT --token TOKEN --secret WHSEC --pid PID
//        [--services 10000] [--regions 20] [--per-service 6] [--webhooks 100] [--patches 20]
//        [--documents 1] [--log GEOROUTE_LOG]
//
// 1. One zone, --regions regions at random places, then --services services, each on its own
//    random --per-service of the regions (proximity, residency none), applied with
//    POST /v1/config/apply in --documents documents (1: one document of every service); timed.
// 2. Webhook trials: for a service and a client subnet, the region DNS answers now is reported
//    unhealthy with a signed webhook. `webhook`: from sending it to the first DNS answer that
//    names another region, asked after its 202 (queries back to back); `webhookToDns`: the same
//    with queries sent every millisecond from the moment it is sent (when DNS changes, whether
//    or not the 202 is back); `webhookAck`: to its 202. Then healthy again (not timed). One
//    trial before them is reported apart (`firstWebhook`): the process's first webhook, cold code.
// 3. PATCH trials: a service's region list is replaced so that the answer must change; t = from
//    sending the PATCH to the first changed DNS answer.
// 4. RSS of --pid (VmRSS) after each phase; with --log (georoute's log file), also once the
//    routing tables are whole (`filled`: the table filler's pass after one more PATCH has ended).
// Prints one JSON line with every figure (milliseconds); progress on stderr.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildQuery, parseReply, prng } from './dnswire.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(repo, 'package.json'));
const { Webhook } = require('standardwebhooks');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const HTTP = args.http;
const DNS_PORT = Number(args.dns);
const TOKEN = args.token;
const SERVICES = Number(args.services ?? 10000);
const REGIONS = Number(args.regions ?? 20);
const PER = Number(args['per-service'] ?? 6);
const WEBHOOKS = Number(args.webhooks ?? 100);
const PATCHES = Number(args.patches ?? 20);
const DOCUMENTS = Number(args.documents ?? 1);
const random = prng(Number(args.seed ?? 42));
const log = (m) => process.stderr.write(`[scale] ${m}\n`);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${args.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** VmRSS's three parts (MB): anonymous memory, pages of mapped files (the GeoIP database), shared memory. */
const rssParts = () => {
  const status = fs.readFileSync(`/proc/${args.pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { anon: Math.round(kb('RssAnon') / 1024), file: Math.round(kb('RssFile') / 1024), shmem: Math.round(kb('RssShmem') / 1024) };
};

async function api(method, url, body) {
  const res = await fetch(`${HTTP}${url}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 400)}`);
  return text.length > 0 ? JSON.parse(text) : null;
}

const webhook = new Webhook(args.secret);
let msgSeq = 0;
async function report(region, status) {
  const body = JSON.stringify({ region, status, reason: 'bench' });
  const id = `msg_scale_${process.pid}_${++msgSeq}`;
  const ts = new Date();
  const signature = webhook.sign(id, ts, body);
  const res = await fetch(`${HTTP}/v1/health/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)), 'webhook-signature': signature },
    body,
  });
  if (res.status !== 202) throw new Error(`webhook ${region} ${status}: ${res.status} ${await res.text()}`);
}

// ---- DNS client: one outstanding query at a time ----
const socket = dgram.createSocket('udp4');
let waiting = null;
socket.on('message', (msg) => {
  if (waiting && msg.readUInt16BE(0) === waiting.id) {
    const w = waiting;
    waiting = null;
    w.resolve(parseReply(msg));
  }
});
let qid = 1;
function ask(name, subnet) {
  return new Promise((resolve, reject) => {
    const id = (qid = (qid + 1) & 0xffff);
    const timer = setTimeout(() => {
      waiting = null;
      reject(new Error(`no DNS reply for ${name} ${subnet}`));
    }, 2000);
    waiting = { id, resolve: (r) => (clearTimeout(timer), resolve(r)) };
    socket.send(buildQuery({ id, name, type: 'A', ecs: subnet }), DNS_PORT, '127.0.0.1');
  });
}
async function answerOf(name, subnet) {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await ask(name, subnet)).addresses.join(',');
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}
async function untilChanged(name, subnet, before, limitMs = 10000) {
  const t0 = now();
  for (;;) {
    const a = await answerOf(name, subnet);
    if (a !== before) return { ms: now() - t0, answer: a };
    if (now() - t0 > limitMs) throw new Error(`${name} ${subnet}: still ${before} after ${limitMs} ms`);
  }
}

function percentile(list, p) {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

// ---- 1. registry ----
const zone = 'scale.test';
const regions = [];
for (let r = 0; r < REGIONS; r++) {
  regions.push({
    name: `r${r}`,
    countryCode: 'US',
    location: { latitude: Math.round((random() * 120 - 60) * 100) / 100, longitude: Math.round((random() * 340 - 170) * 100) / 100 },
    endpoints: { ipv4: [`10.${Math.floor(r / 250)}.${r % 250}.1`] },
  });
}
const services = [];
for (let s = 0; s < SERVICES; s++) {
  const names = regions.map((r) => r.name);
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [names[i], names[j]] = [names[j], names[i]];
  }
  services.push({ fqdn: `s${s}.${zone}`, policy: 'proximity', regions: names.slice(0, PER), residency: 'none', ttl: 30 });
}
const rssBefore = rss();
const doc = (part) => ({ zones: [{ name: zone, nameservers: [`ns1.${zone}`], hostmaster: `hostmaster.${zone}`, ttl: 3600, negativeTtl: 60 }], regions, services: part });
const applyStarted = now();
const per = Math.ceil(SERVICES / DOCUMENTS);
for (let d = 0; d < DOCUMENTS; d++) await api('POST', '/v1/config/apply', doc(services.slice(0, (d + 1) * per)));
const applyMs = now() - applyStarted;
log(`applied ${SERVICES} services on ${REGIONS} regions in ${DOCUMENTS} document(s): ${applyMs.toFixed(0)} ms`);
// The last service must answer before the clock stops: the apply answers once its snapshot is in place.
const lastAnswer = await answerOf(services[SERVICES - 1].fqdn, '8.8.8.0/24');
if (lastAnswer === '') throw new Error('the last service does not answer after the apply');
const rssAfterApply = rss();

// Client subnets spread over the world (the bundled database places them).
const SUBNETS = ['81.2.69.0/24', '8.8.8.0/24', '1.1.1.0/24', '133.242.0.0/24', '200.160.0.0/24', '41.0.0.0/24', '103.1.2.0/24', '89.160.20.0/24'];
const ipOfRegion = new Map(regions.map((r) => [r.endpoints.ipv4[0], r.name]));

// ---- 2. webhooks ----
// Three times per change: `webhook`, from sending it to the first changed answer to a query
// sent after its 202 (the sender's view: the acknowledgement, then DNS); `webhookToDns`, to the
// first changed answer of queries sent every millisecond from the moment it is sent (when DNS
// changes, whatever the acknowledgement does); `webhookAck`, to its 202.
const webhookMs = [];
const webhookDnsMs = [];
const webhookAckMs = [];
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function webhookTrial(t) {
  const service = services[Math.floor(random() * SERVICES)];
  const subnet = SUBNETS[(t + SUBNETS.length) % SUBNETS.length];
  const before = await answerOf(service.fqdn, subnet);
  const region = ipOfRegion.get(before);
  if (!region) throw new Error(`unexpected answer ${before}`);
  const t0 = now();
  let ackMs = -1;
  const sent = report(region, 'unhealthy').then(() => {
    ackMs = now() - t0;
  });
  sent.catch(() => undefined);
  let dnsMs = -1;
  while (dnsMs < 0 && ackMs < 0) {
    if ((await answerOf(service.fqdn, subnet)) !== before) dnsMs = now() - t0;
    else await pause(1);
  }
  await sent;
  const changed = await untilChanged(service.fqdn, subnet, before);
  const trial = { total: now() - t0, ack: ackMs, dns: dnsMs >= 0 ? dnsMs : now() - t0 };
  await report(region, 'healthy');
  await untilChanged(service.fqdn, subnet, changed.answer);
  return trial;
}
// The first webhook this process handles runs its code for the first time (the route, the
// signature check, the repository's statements: V8 compiles a function when it is first called)
// and costs 15-40 ms more than the next ones. It is timed and reported on its own (`firstWebhook`),
// as a warm-up, and the 100 trials (the p99 target) come after it, as the other benchmarks warm up.
const first = await webhookTrial(-1);
const firstWebhook = { total: +first.total.toFixed(1), ack: +first.ack.toFixed(1), toDns: +first.dns.toFixed(1) };
for (let t = 0; t < WEBHOOKS; t++) {
  const trial = await webhookTrial(t);
  webhookMs.push(trial.total);
  webhookAckMs.push(trial.ack);
  webhookDnsMs.push(trial.dns);
}
log(`webhook -> DNS: p50 ${percentile(webhookMs, 0.5).toFixed(1)} ms, p99 ${percentile(webhookMs, 0.99).toFixed(1)} ms`);

// ---- 3. PATCH ----
const patchMs = [];
for (let t = 0; t < PATCHES; t++) {
  const service = services[Math.floor(random() * SERVICES)];
  const subnet = SUBNETS[t % SUBNETS.length];
  const before = await answerOf(service.fqdn, subnet);
  const current = ipOfRegion.get(before);
  // One region the answer cannot be now: the service moves there alone.
  const target = regions.find((r) => r.name !== current).name;
  const t0 = now();
  await api('PATCH', `/v1/services/${service.fqdn}`, { regions: [target] });
  await untilChanged(service.fqdn, subnet, before);
  patchMs.push(now() - t0);
  service.regions = [target];
}
log(`PATCH -> DNS: p50 ${percentile(patchMs, 0.5).toFixed(1)} ms, p99 ${percentile(patchMs, 0.99).toFixed(1)} ms`);
// `end` stays what it was before the filled phase existed: RSS right after the PATCH trials.
const rssEnd = rss();

// ---- 4. RSS once the routing tables are whole ----
// The table filler maps the database's records, builds the IPv4 /24 table and ranks every class
// in the background (a third of a core); the phases above end before it does. With --log, one
// more PATCH starts a pass (or joins the one under way) and the first "filled" line logged after
// it means every table is complete: RSS then is the figure for the target.
let rssFilled = null;
let rssFilledParts = null;
let filledAfterMs = null;
if (args.log !== undefined) {
  const filledLines = () => (fs.readFileSync(args.log, 'utf8').match(/routing tables filled ahead of queries/g) ?? []).length;
  const seen = filledLines();
  const service = services[0];
  const t0 = now();
  await api('PATCH', `/v1/services/${service.fqdn}`, { regions: [regions[0].name, regions[1].name] });
  while (filledLines() === seen) {
    if (now() - t0 > 300_000) throw new Error('the routing tables were not filled within 300 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  filledAfterMs = Math.round(now() - t0);
  rssFilled = Math.round(rss());
  rssFilledParts = rssParts();
  log(`tables filled ${filledAfterMs} ms after the last PATCH; RSS ${rssFilled} MB`);
}
socket.close();
// Where the memory is: V8's heap (prom-client's default metrics) beside the resident set.
const metrics = await (await fetch(`${HTTP}/metrics`)).text();
const metric = (name) => Math.round(Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) / 1048576);
const heapMb = { used: metric('georoute_nodejs_heap_size_used_bytes'), total: metric('georoute_nodejs_heap_size_total_bytes'), external: metric('georoute_nodejs_external_memory_bytes') };

process.stdout.write(
  JSON.stringify({
    services: SERVICES,
    regions: REGIONS,
    documents: DOCUMENTS,
    applyMs: Math.round(applyMs),
    firstWebhook,
    webhookToDns: { n: webhookDnsMs.length, p50: +percentile(webhookDnsMs, 0.5).toFixed(1), p99: +percentile(webhookDnsMs, 0.99).toFixed(1), slowest: webhookDnsMs.map((ms, i) => [i, +ms.toFixed(1)]).sort((a, b) => b[1] - a[1]).slice(0, 3) },
    webhookAck: { n: webhookAckMs.length, p50: +percentile(webhookAckMs, 0.5).toFixed(1), p99: +percentile(webhookAckMs, 0.99).toFixed(1), slowest: webhookAckMs.map((ms, i) => [i, +ms.toFixed(1)]).sort((a, b) => b[1] - a[1]).slice(0, 3) },
    webhook: { n: webhookMs.length, p50: +percentile(webhookMs, 0.5).toFixed(1), p99: +percentile(webhookMs, 0.99).toFixed(1), max: +Math.max(...webhookMs).toFixed(1), slowest: webhookMs.map((ms, i) => [i, +ms.toFixed(1)]).sort((a, b) => b[1] - a[1]).slice(0, 3) },
    patch: { n: patchMs.length, p50: +percentile(patchMs, 0.5).toFixed(1), p99: +percentile(patchMs, 0.99).toFixed(1), max: +Math.max(...patchMs).toFixed(1), slowest: patchMs.map((ms, i) => [i, +ms.toFixed(1)]).sort((a, b) => b[1] - a[1]).slice(0, 3) },
    rssMb: { before: Math.round(rssBefore), afterApply: Math.round(rssAfterApply), end: Math.round(rssEnd), filled: rssFilled, filledParts: rssFilledParts },
    filledAfterMs,
    heapMb,
  }) + '\n',
);
