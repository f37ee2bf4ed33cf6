/**
 * Independent DNSSEC validators for the end-to-end tests: BIND's delv with a static trust anchor,
 * and Unbound as a validating resolver whose stub zone points at georoute. Both are required
 * (bind9-dnsutils, unbound): missing, the tests fail with a message, they are not skipped.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dig, waitFor } from './dns-client';

export function tool(name: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} is not installed (apt-get install bind9-dnsutils unbound); the DNSSEC validation tests need it`);
}

/** A trust-anchors file for delv: `static-key` DNSKEYs or `static-ds` DS records of the zone. */
export function writeAnchor(dir: string, zone: string, anchors: { dnskeys?: readonly string[]; ds?: readonly string[] }): string {
  const file = path.join(dir, `anchor-${Math.random().toString(36).slice(2)}.conf`);
  const lines: string[] = [];
  for (const k of anchors.dnskeys ?? []) {
    const [flags, proto, alg, key] = k.split(' ');
    lines.push(`  ${zone}. static-key ${flags} ${proto} ${alg} "${key}";`);
  }
  for (const d of anchors.ds ?? []) {
    const [tag, alg, digestType, digest] = d.split(' ');
    lines.push(`  ${zone}. static-ds ${tag} ${alg} ${digestType} "${digest}";`);
  }
  fs.writeFileSync(file, `trust-anchors {\n${lines.join('\n')}\n};\n`);
  return file;
}

/** delv against georoute with the anchor file; stdout + stderr (a failed validation is not thrown). */
export function delv(port: number, anchorFile: string, zone: string, name: string, type: string, extra: readonly string[] = []): Promise<string> {
  const args = ['@127.0.0.1', '-p', String(port), '-a', anchorFile, `+root=${zone}`, '+nottl', ...extra, name, type];
  return new Promise((resolve) => {
    execFile(tool('delv'), args, { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => resolve(`${stdout}${stderr}${err ? `\n(exit: ${err.message})` : ''}`));
  });
}

/** A UDP port free right now on 127.0.0.1 (Unbound binds UDP and TCP on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export interface Unbound {
  readonly port: number;
  /** dig through Unbound (recursion desired). */
  dig(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Unbound validating `zone` with the DS records as trust anchor, forwarding to georoute through a
 * stub zone; ECS from the client is passed on (subnetcache module), so one resolver can ask as
 * clients of several subnets.
 */
export async function startUnbound(georoutePort: number, zone: string, ds: readonly string[]): Promise<Unbound> {
  // The free port is looked up, then bound by unbound: another process may take it in between,
  // so a start that fails on "Address already in use" is tried again on another port.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchUnbound(georoutePort, zone, ds);
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function launchUnbound(georoutePort: number, zone: string, ds: readonly string[]): Promise<Unbound> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-unbound-'));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'anchor.ds'), ds.map((d) => `${zone}. IN DS ${d}\n`).join(''));
  const conf = path.join(dir, 'unbound.conf');
  fs.writeFileSync(
    conf,
    `server:
  interface: 127.0.0.1
  port: ${port}
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "subnetcache validator iterator"
  client-subnet-zone: ${zone}
  send-client-subnet: 127.0.0.1
  client-subnet-always-forward: yes
  max-client-subnet-ipv4: 24
  trust-anchor-file: "${path.join(dir, 'anchor.ds')}"
  val-permissive-mode: no
  qname-minimisation: no
  aggressive-nsec: no
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
  msg-cache-size: 1m
  rrset-cache-size: 1m
stub-zone:
  name: "${zone}"
  stub-addr: 127.0.0.1@${georoutePort}
remote-control:
  control-enable: no
`,
  );
  const child: ChildProcess = spawn(tool('unbound'), ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor(`unbound on port ${port} (${log})`, async () => {
      if (child.exitCode !== null) throw new Error(`unbound exited: ${log}`);
      try {
        return (await dig(port, ['+time=1', '+tries=1', zone, 'SOA'])).includes('status:');
      } catch {
        return false;
      }
    }, 10_000, 100);
  } catch (err) {
    child.kill();
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    dig: (args) => dig(port, [...args]),
    stop: async () => {
      child.kill();
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
