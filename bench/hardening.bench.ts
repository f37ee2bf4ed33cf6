/**
 * Hardening benchmark (issue 16): UDP DNS latency at idle, during the largest topology upload and
 * during back-to-back anycast simulations of a 200,000-AS topology, plus the upload's time and
 * whether the API (a database read) kept answering meanwhile. georoute runs as its own process
 * (dist/src/main.js, embedded database); this process only sends queries and requests.
 * Usage: node dist/bench/hardening.bench.js [--ases 200000] [--idle-ms 5000] [--simulations 12]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as dnsPacket from 'dns-packet';
import { generateTopology, placeSites, toCaidaText } from './topology-generator';

const REPO = path.resolve(__dirname, '../..');
const TOKEN = 'bench-hardening-token-0123456789';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

function start(dataDir: string): Promise<{ child: ChildProcess; http: number; dns: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HTTP_PORT: '0', DNS_PORT: '0', DATA_DIR: dataDir, CONFIG_FILE: 'none', ADMIN_TOKEN: TOKEN, RRL_EXEMPT: '127.0.0.0/8', LOG_LEVEL: 'info' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [path.join(REPO, 'dist/src/main.js')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      buf += c;
      const m = /ready in \d+ ms: HTTP http:\/\/127\.0\.0\.1:(\d+) DNS 127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) resolve({ child, http: Number(m[1]), dns: Number(m[2]) });
      if (buf.length > 1e6) buf = buf.slice(-1e5);
    });
    child.once('exit', (code) => reject(new Error(`georoute exited (${code})`)));
  });
}

async function api(port: number, method: string, url: string, body?: string, type = 'application/json'): Promise<{ status: number; ms: number; json: unknown }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}${url}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, body });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - t0, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/** Sends one A query every `everyMs` until `until()` says stop; latencies in ms, lost = no answer in 2 s. */
async function dnsProbe(port: number, everyMs: number, until: () => boolean): Promise<{ latencies: number[]; lost: number }> {
  const socket = dgram.createSocket('udp4');
  const sent = new Map<number, number>();
  const latencies: number[] = [];
  socket.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const t = sent.get(id);
    if (t !== undefined) {
      latencies.push(performance.now() - t);
      sent.delete(id);
    }
  });
  let id = 0;
  while (!until()) {
    id = (id + 1) & 0xffff;
    sent.set(id, performance.now());
    socket.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'www.example.com' }] }), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await new Promise((r) => setTimeout(r, 2000));
  socket.close();
  return { latencies, lost: sent.size };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (r: { latencies: number[]; lost: number }) =>
  `${r.latencies.length} answers, ${r.lost} lost, p50 ${pct(r.latencies, 50).toFixed(2)} ms, p99 ${pct(r.latencies, 99).toFixed(2)} ms, max ${Math.max(...r.latencies).toFixed(1)} ms`;

async function main(): Promise<void> {
  const ases = arg('ases', 200_000);
  const idleMs = arg('idle-ms', 5000);
  const simulations = arg('simulations', 12);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-bench-hardening-'));
  const g = await start(path.join(dir, 'data'));
  try {
    await api(g.http, 'POST', '/v1/zones', JSON.stringify({ name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' }));
    await api(g.http, 'POST', '/v1/zones/example.com/records', JSON.stringify({ name: 'www', type: 'A', values: ['192.0.2.80'] }));
    const generated = generateTopology({ seed: 20240601, ases, peeringDensity: 'dense' });
    const sites = placeSites(generated, { placement: 'dense', count: 8 });
    for (const s of sites) {
      const r = await api(g.http, 'POST', '/v1/regions', JSON.stringify({ name: `${s.region}-1`, countryCode: 'US', location: { latitude: s.latitude, longitude: s.longitude }, endpoints: { ipv4: ['192.0.2.1'] }, anycast: { originAsn: s.originAsn, upstreams: s.upstreams } }));
      if (r.status !== 201) throw new Error(`region ${s.region}: ${r.status} ${JSON.stringify(r.json)}`);
    }
    const text = toCaidaText(generated);

    const t0 = Date.now();
    const idle = await dnsProbe(g.dns, 10, () => Date.now() - t0 > idleMs);

    let uploading = true;
    const apiDuring: { status: number; ms: number }[] = [];
    const poll = (async () => {
      while (uploading) {
        const r = await api(g.http, 'GET', '/v1/zones/example.com/records');
        apiDuring.push({ status: r.status, ms: r.ms });
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const uploadStart = performance.now();
    const dnsUpload = dnsProbe(g.dns, 10, () => !uploading);
    const up = await api(g.http, 'PUT', '/v1/anycast/topology', text, 'text/plain');
    const uploadMs = performance.now() - uploadStart;
    uploading = false;
    await poll;
    const duringUpload = await dnsUpload;
    if (up.status !== 200) throw new Error(`upload: ${up.status} ${JSON.stringify(up.json).slice(0, 300)}`);

    let simulating = true;
    const dnsSim = dnsProbe(g.dns, 10, () => !simulating);
    const simMs: number[] = [];
    for (let i = 0; i < simulations; i++) {
      const withdrawn = [`${sites[i % sites.length].region}-1`];
      const r = await api(g.http, 'POST', '/v1/anycast/simulate', JSON.stringify({ withdrawn, useHealth: false, clients: [] }));
      if (r.status !== 200) throw new Error(`simulate: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
      simMs.push(r.ms);
    }
    simulating = false;
    const duringSim = await dnsSim;
    const bad = apiDuring.filter((r) => r.status !== 200).length;
    console.log(`- topology: ${ases} ASes, ${(up.json as { summary: { links: number } }).summary.links} links, ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB CAIDA text; 8 dense sites`);
    console.log(`- DNS idle: ${fmt(idle)}`);
    console.log(`- upload: ${uploadMs.toFixed(0)} ms; API (GET records, every 100 ms) meanwhile: ${apiDuring.length} requests, ${bad} not 200, slowest ${Math.max(...apiDuring.map((r) => r.ms)).toFixed(0)} ms; DNS meanwhile: ${fmt(duringUpload)}`);
    console.log(`- ${simulations} simulations back to back: ${simMs.map((m) => m.toFixed(0)).join(', ')} ms; DNS meanwhile: ${fmt(duringSim)}`);
  } finally {
    g.child.kill('SIGTERM');
    await new Promise((r) => g.child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
