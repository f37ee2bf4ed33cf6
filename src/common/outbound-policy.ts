import * as http from 'node:http';
import * as https from 'node:https';
import * as dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import * as ipaddr from 'ipaddr.js';

/**
 * Where georoute may connect on an operator's behalf (health probes, promotion notifications).
 * Health results are readable through the API, so without a policy a token holder could use the
 * prober as a port scanner and a content oracle for the host's own network.
 *
 * - Never: unspecified (0.0.0.0, ::), link-local (169.254.0.0/16 with the cloud metadata
 *   service 169.254.169.254, fe80::/10), multicast, broadcast, and the metadata addresses
 *   outside link-local (fd00:ec2::254, 100.100.100.200). OUTBOUND_ALLOW cannot open these.
 * - Only when OUTBOUND_ALLOW covers the address: loopback, private (RFC 1918), unique-local
 *   (fc00::/7), shared (100.64.0.0/10) and every other special-purpose range (documentation,
 *   benchmarking, reserved, 6to4, Teredo...).
 * - Public unicast: allowed.
 * IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) addresses are judged by their IPv4.
 *
 * The check runs on the resolved address and the connection goes to that same address (the
 * `lookup` below hands Node only checked addresses), so a name that resolves to a public
 * address when validated and a private one when used (DNS rebinding) gains nothing.
 */
export type Cidr = readonly [ipaddr.IPv4 | ipaddr.IPv6, number];

const NEVER_RANGES = new Set(['unspecified', 'linkLocal', 'multicast', 'broadcast']);
const METADATA = new Set(['fd00:ec2::254', '100.100.100.200']);
export const OUTBOUND_POLICY_ERROR = 'ERR_OUTBOUND_POLICY';

/** Why a connection to this address is refused, or null when it is allowed. */
export function outboundRefusal(address: string, allow: readonly Cidr[]): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address();
    else if (v6.range() === 'rfc6052') ip = new ipaddr.IPv4(v6.toByteArray().slice(12));
  }
  const range = ip.range();
  if (NEVER_RANGES.has(range) || METADATA.has(ip.toNormalizedString()) || METADATA.has(ip.toString())) {
    return `the address is ${describe(range, ip)}, never allowed`;
  }
  if (range === 'unicast') return null;
  if (allow.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return null;
  return `the address is ${describe(range, ip)}; allow it with OUTBOUND_ALLOW`;
}

function describe(range: string, ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (METADATA.has(ip.toString()) || ip.toString() === '169.254.169.254') return 'a cloud metadata address';
  const names: Record<string, string> = {
    unspecified: 'unspecified',
    linkLocal: 'link-local',
    multicast: 'multicast',
    broadcast: 'broadcast',
    loopback: 'loopback',
    private: 'private',
    uniqueLocal: 'private (unique local)',
    carrierGradeNat: 'shared address space',
  };
  return names[range] ?? `special-purpose (${range})`;
}

function policyError(host: string, reason: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`refused by the outbound policy: ${host}: ${reason}`), { code: OUTBOUND_POLICY_ERROR });
}

/** The policy with its allow list: the check for an address literal, and a `lookup` for names. */
export class OutboundPolicy {
  constructor(private readonly allow: readonly Cidr[]) {}

  /** For a host that is an IP literal (Node does not call `lookup` for those): the refusal, or null. */
  literalRefusal(host: string): string | null {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (!ipaddr.isValid(bare)) return null;
    const reason = outboundRefusal(bare, this.allow);
    return reason === null ? null : policyError(host, reason).message;
  }

  /**
   * A drop-in for dns.lookup that answers only addresses the policy allows (the connection then
   * goes to exactly those), or fails with code ERR_OUTBOUND_POLICY.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as dns.LookupAddress[];
      const allowed = list.filter((a) => outboundRefusal(a.address, this.allow) === null);
      if (allowed.length === 0) {
        const reason = list.length > 0 ? outboundRefusal(list[0].address, this.allow)! : 'no address';
        return callback(policyError(hostname, reason), '', 0);
      }
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/**
 * One POST to `urlText` on a fresh connection under `policy` (an address literal is checked first;
 * a name is resolved through the policy's lookup, and the connection goes to the checked address),
 * redirects not followed, the answer's body drained. Rejects with code ERR_OUTBOUND_POLICY when the
 * policy refuses, with name TimeoutError after `timeoutMs`. Used by every outbound notification.
 */
export function postUnderPolicy(policy: OutboundPolicy, urlText: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(urlText);
    const refused = policy.literalRefusal(url.hostname);
    if (refused !== null) return reject(Object.assign(new Error(refused), { code: OUTBOUND_POLICY_ERROR }));
    const req = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', agent: false, lookup: policy.lookup, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('error', (e) => reject(e.name === 'AbortError' ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : e));
    req.end(body);
  });
}

/** A URL with its user name and password replaced by "***" (for API output and logs). */
export function redactUrlCredentials(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username === '' && url.password === '') return text;
  url.username = '***';
  url.password = url.password === '' ? '' : '***';
  return url.toString();
}

/** A URL for logs: scheme, host and path only (no credentials, no query). */
export function urlForLogs(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
