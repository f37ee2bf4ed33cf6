/**
 * DNS health probe: asks the region's DNS endpoint one question over UDP or TCP and passes when
 * the reply's RCODE is the expected one and, when a pattern is given, an answer record matches it.
 * The query is built and the reply parsed by dns2 (its UDP client over UDP; over TCP the socket is
 * ours so the time-out can close it, the message is still dns2's). `timeoutMs` bounds the whole
 * exchange. Never throws or rejects.
 */
import * as net from 'node:net';
import DNS from 'dns2';
import { describeNetworkError, settleProbe, type ProbeResult } from './probe-result';

/** Question types a dns check may ask (those dns2 encodes). */
export const DNS_PROBE_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SOA', 'TXT', 'SRV', 'PTR', 'CAA'] as const;
export const DNS_PROBE_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const;

export interface DnsProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly queryName: string;
  readonly queryType: (typeof DNS_PROBE_TYPES)[number];
  readonly transport: 'udp' | 'tcp';
  readonly expectRcode: (typeof DNS_PROBE_RCODES)[number];
  /** A regular expression one answer's data must match (e.g. "^192\\.0\\.2\\."). */
  readonly answerPattern?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

interface Dns2Reply {
  header: { rcode: number };
  answers: Record<string, unknown>[];
}

export function probeDns(options: DnsProbeOptions): Promise<ProbeResult> {
  const { host, port, timeoutMs } = options;
  const prepare = (): RegExp | null | string => {
    if (typeof host !== 'string' || host.length === 0) return 'invalid host';
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `invalid port ${String(port)}`;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return `invalid timeoutMs ${String(timeoutMs)}`;
    if (!(DNS_PROBE_TYPES as readonly string[]).includes(options.queryType)) return `invalid queryType ${String(options.queryType)}`;
    try {
      return options.answerPattern === undefined ? null : new RegExp(options.answerPattern);
    } catch {
      return `invalid answerPattern ${options.answerPattern}`;
    }
  };
  return settleProbe(options, prepare, (pattern, attempt) => {
    const judge = (reply: Dns2Reply): void => attempt.finish(...verdict(reply, options.expectRcode, pattern));
    const fail = (error: unknown): void => attempt.finish(false, describeNetworkError(error));
    if (options.transport === 'udp') {
      const ask = DNS.UDPClient({ dns: host, port, timeout: timeoutMs, retryOverTCP: false, socketType: net.isIPv6(host) ? 'udp6' : 'udp4' });
      ask(options.queryName, options.queryType, DNS.Packet.CLASS.IN, { recursive: false }).then((r) => judge(r as unknown as Dns2Reply), fail);
      return;
    }
    const socket = net.connect({ host, port });
    attempt.hold(socket);
    socket.on('error', fail);
    socket.on('connect', () => {
      const query = new DNS.Packet();
      query.header.id = Math.floor(Math.random() * 0x10000);
      query.questions.push({ name: options.queryName, type: DNS.Packet.TYPE[options.queryType], class: DNS.Packet.CLASS.IN } as unknown as DNS.Packet.Question);
      const message = query.toBuffer();
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([length, message]));
      DNS.Packet.readStream(socket).then((data) => {
        if (data.length === 0) return attempt.finish(false, 'connection closed without a reply');
        judge(DNS.Packet.parse(data) as unknown as Dns2Reply);
      }, fail);
    });
  });
}

const RCODE_NAMES: readonly string[] = DNS_PROBE_RCODES;

/** The probe's verdict on a reply. */
export function verdict(reply: Dns2Reply, expectRcode: string, pattern: RegExp | null): [boolean, string] {
  const rcode = RCODE_NAMES[reply.header.rcode] ?? `RCODE${reply.header.rcode}`;
  const answers = reply.answers.map(answerText);
  if (rcode !== expectRcode) return [false, `rcode ${rcode}, expected ${expectRcode}`];
  if (pattern !== null && !answers.some((a) => pattern.test(a))) {
    return [false, `no answer matches /${pattern.source}/ (${answers.length === 0 ? 'no answers' : answers.slice(0, 3).join(', ')})`];
  }
  return [true, `${rcode}, ${answers.length} answer${answers.length === 1 ? '' : 's'}`];
}

/** One answer's data as text: the address, target or text dns2 decoded. */
function answerText(a: Record<string, unknown>): string {
  for (const key of ['address', 'domain', 'exchange', 'target', 'data', 'ns', 'primary', 'value']) {
    const v = a[key];
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.join('');
  }
  return JSON.stringify(a);
}
