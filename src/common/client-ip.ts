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
