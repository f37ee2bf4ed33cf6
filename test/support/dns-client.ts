import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { execFile } from 'node:child_process';
import * as dnsPacket from 'dns-packet';

export interface QueryOptions {
  /** ECS as "a.b.c.d/len" or "v6/len". */
  subnet?: string;
  edns?: boolean;
  tcp?: boolean;
  id?: number;
  timeoutMs?: number;
}

function ecsOption(subnet: string) {
  const [ip, len] = subnet.split('/');
  return { code: 'CLIENT_SUBNET' as const, family: ip.includes(':') ? 2 : 1, sourcePrefixLength: Number(len), scopePrefixLength: 0, ip };
}

/** One query over real UDP or TCP, decoded with dns-packet (an independent decoder). */
export async function query(port: number, name: string, type: string, opts: QueryOptions = {}): Promise<dnsPacket.Packet> {
  const edns = opts.edns ?? opts.subnet !== undefined;
  const packet: dnsPacket.Packet = {
    type: 'query',
    id: opts.id ?? Math.floor(Math.random() * 65535),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as dnsPacket.RecordType, name, class: 'IN' }],
    additionals: edns
      ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: opts.subnet ? [ecsOption(opts.subnet)] : [] } as never]
      : [],
  };
  const buf = dnsPacket.encode(packet);
  const raw = opts.tcp ? await sendTcp(port, buf, opts.timeoutMs ?? 2000) : await sendUdp(port, buf, opts.timeoutMs ?? 2000);
  return dnsPacket.decode(raw);
}

/** Where a raw exchange goes and comes from: server host (default 127.0.0.1), client address. */
export interface Endpoint {
  host?: string;
  localAddress?: string;
}

/** One datagram out, the first datagram back. */
export function sendUdp(port: number, buf: Buffer, timeoutMs = 2000, at: Endpoint = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const finish = (err: Error | null, msg?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => finish(new Error(`no UDP reply within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.once('message', (msg) => finish(null, msg));
    sock.bind({ address: at.localAddress ?? '0.0.0.0', port: 0 }, () => sock.send(buf, port, at.host ?? '127.0.0.1'));
  });
}

/** One length-framed message over a new TCP connection, the first framed reply back. */
export function sendTcp(port: number, buf: Buffer, timeoutMs = 2000, at: Endpoint = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: at.host ?? '127.0.0.1', localAddress: at.localAddress });
    let settled = false;
    const finish = (err: Error | null, msg?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    const timer = setTimeout(() => finish(new Error(`no TCP reply within ${timeoutMs} ms`)), timeoutMs);
    let acc = Buffer.alloc(0);
    sock.on('data', (d) => {
      acc = Buffer.concat([acc, d]);
      if (acc.length >= 2 && acc.length >= 2 + acc.readUInt16BE(0)) finish(null, acc.subarray(2, 2 + acc.readUInt16BE(0)));
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error('TCP connection closed without a reply')));
    const framed = Buffer.alloc(2 + buf.length);
    framed.writeUInt16BE(buf.length, 0);
    buf.copy(framed, 2);
    sock.write(framed);
  });
}

/** The A/AAAA addresses of an answer. */
export function addresses(p: dnsPacket.Packet): string[] {
  return (p.answers ?? []).filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => (a as { data: string }).data);
}

export function rcodeOf(p: dnsPacket.Packet): string {
  return (p as unknown as { rcode: string }).rcode;
}

/** Runs dig; fails loudly when dig is missing (CI installs dnsutils). */
export function dig(port: number, args: string[]): Promise<string> {
  // Asynchronous: the server under test runs in this process and must keep answering.
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('dig is not installed (apt-get install dnsutils)'));
      else if (err) reject(new Error(`dig failed (${err.message}): ${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 5000, everyMs = 5): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
