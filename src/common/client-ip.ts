import * as ipaddr from 'ipaddr.js';

type Cidr = readonly [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses an address; IPv4-mapped IPv6 (::ffff:a.b.c.d, as Node reports IPv4 peers on dual-stack sockets) becomes IPv4. */
export function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    const addr = ipaddr.parse(text.trim());
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) return (addr as ipaddr.IPv6).toIPv4Address();
    return addr;
  } catch {
    return null;
  }
}

function inAny(addr: ipaddr.IPv4 | ipaddr.IPv6, cidrs: readonly Cidr[]): boolean {
  return cidrs.some(([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never));
}

/** Whether a socket peer is one of the trusted proxies. */
export function isTrustedPeer(peer: string, trusted: readonly Cidr[]): boolean {
  const addr = trusted.length === 0 ? null : parseIp(peer);
  return addr !== null && inAny(addr, trusted);
}

/**
 * The client address of an HTTP request: the socket peer, unless the peer is a trusted proxy; then
 * X-Forwarded-For is read from the right, skipping trusted proxies, and the first untrusted address
 * is the client (addresses left of it could be forged by the client). A malformed entry stops the
 * walk at the last address we could trust.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: readonly Cidr[],
): { ip: string; forwarded: boolean } | null {
  const peerAddr = peer ? parseIp(peer) : null;
  if (!peerAddr) return null;
  if (trusted.length === 0 || !inAny(peerAddr, trusted) || forwardedFor === undefined) return { ip: peerAddr.toString(), forwarded: false };
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((s) => s.trim()).filter(Boolean);
  let client = peerAddr;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseIp(hops[i]);
    if (!hop) break;
    client = hop;
    if (!inAny(hop, trusted)) break;
  }
  return { ip: client.toString(), forwarded: client !== peerAddr };
}

/** Whether `text` is an IPv4 address in canonical dotted-decimal form (no leading zeros, no spaces). */
export function isCanonicalIpv4(text: string): boolean {
  const n = text.length;
  if (n < 7 || n > 15) return false;
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 0x2e : text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++octets > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 0x30);
      digits++;
    } else {
      return false;
    }
  }
  return octets === 4;
}

/**
 * clientAddress for a hot path (the redirect fast path): the same answers, with what each socket
 * peer is (its text form, trusted or not) remembered, and the common X-Forwarded-For — one
 * canonical IPv4 address from a trusted proxy — read without parsing.
 */
export class ClientAddressReader {
  private static readonly MAX_PEERS = 4096;
  private readonly peers = new Map<string, { readonly ip: string; readonly trusted: boolean } | null>();

  constructor(private readonly trusted: readonly Cidr[]) {}

  read(peer: string | undefined, forwardedFor: string | string[] | undefined): { ip: string; forwarded: boolean } | null {
    if (!peer) return null;
    let known = this.peers.get(peer);
    if (known === undefined) {
      const addr = parseIp(peer);
      known = addr === null ? null : { ip: addr.toString(), trusted: this.trusted.length > 0 && inAny(addr, this.trusted) };
      if (this.peers.size >= ClientAddressReader.MAX_PEERS) this.peers.clear();
      this.peers.set(peer, known);
    }
    if (known === null) return null;
    if (!known.trusted || forwardedFor === undefined) return { ip: known.ip, forwarded: false };
    // One hop: whether or not it is a trusted proxy itself, it is the client (nothing left of it).
    if (typeof forwardedFor === 'string' && isCanonicalIpv4(forwardedFor)) return { ip: forwardedFor, forwarded: true };
    return clientAddress(peer, forwardedFor, this.trusted);
  }
}
