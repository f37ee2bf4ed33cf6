// Minimal DNS wire helpers for the benchmark tools (queries with per-query EDNS Client Subnet,
// and just enough reply parsing to check answers). Plain Node, no dependencies. Not used by the
// server; kept separate from src/ so the benchmark does not measure georoute with its own code.

const TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, ANY: 255 };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export function qtypeNumber(type) {
  const n = TYPES[String(type).toUpperCase()];
  if (n === undefined) throw new Error(`unknown qtype ${type}`);
  return n;
}

export function rcodeName(rcode) {
  return RCODES[rcode] ?? `RCODE${rcode}`;
}

function encodeName(name) {
  const parts = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (label === '') continue;
    const b = Buffer.from(label, 'ascii');
    if (b.length > 63) throw new Error(`label too long in ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * Parses "a.b.c.d/n" or "x::y/n" into the ECS option payload fields: family, source prefix and
 * the ceil(n/8) leading address octets with the bits past n cleared (RFC 7871 §6).
 */
export function parseSubnet(text) {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  let bytes;
  let family;
  if (address.includes(':')) {
    family = 2;
    bytes = ipv6Bytes(address);
  } else {
    family = 1;
    const parts = address.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 ${text}`);
    bytes = Buffer.from(parts);
  }
  const max = family === 1 ? 32 : 128;
  const source = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(source) || source < 0 || source > max) throw new Error(`bad prefix in ${text}`);
  const length = (source + 7) >>> 3;
  const out = Buffer.from(bytes.subarray(0, length));
  if (source % 8 !== 0) out[length - 1] &= (0xff << (8 - (source % 8))) & 0xff;
  return { family, source, address: out };
}

function ipv6Bytes(text) {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const h = head === '' ? [] : head.split(':');
  const t = tail === null || tail === '' ? [] : tail.split(':');
  const groups = tail === null ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`bad IPv6 ${text}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i));
  return out;
}

/** The ECS option payload as hex, for dnsperf's global `-E 8:<hex>`. */
export function ecsHex(subnet) {
  const { family, source, address } = parseSubnet(subnet);
  const head = Buffer.from([0, family, source, 0]);
  return Buffer.concat([head, address]).toString('hex');
}

/**
 * One query message. `ecs` is a subnet string or null; `edns` adds an OPT (implied by ecs).
 * RD is clear (an authoritative server copies it; nothing depends on it).
 */
export function buildQuery({ id = 0, name, type = 'A', ecs = null, edns = ecs !== null, udpSize = 1232, dnssecOk = false }) {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0000, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(edns ? 1 : 0, 10);
  const question = Buffer.concat([encodeName(name), Buffer.from([0, 0, 0, 1])]);
  question.writeUInt16BE(qtypeNumber(type), question.length - 4);
  if (!edns) return Buffer.concat([header, question]);
  let options = Buffer.alloc(0);
  if (ecs !== null) {
    const { family, source, address } = parseSubnet(ecs);
    options = Buffer.alloc(8 + address.length);
    options.writeUInt16BE(8, 0); // CLIENT_SUBNET
    options.writeUInt16BE(4 + address.length, 2);
    options.writeUInt16BE(family, 4);
    options[6] = source;
    options[7] = 0;
    address.copy(options, 8);
  }
  const opt = Buffer.alloc(11);
  opt[0] = 0;
  opt.writeUInt16BE(41, 1);
  opt.writeUInt16BE(udpSize, 3);
  opt.writeUInt32BE(dnssecOk ? 0x8000 : 0, 5); // extended RCODE, version, DO bit (RFC 3225)
  opt.writeUInt16BE(options.length, 9);
  return Buffer.concat([header, question, opt, options]);
}

function skipName(msg, off) {
  for (;;) {
    const l = msg[off];
    if (l === undefined) throw new Error('truncated name');
    if (l === 0) return off + 1;
    if ((l & 0xc0) === 0xc0) return off + 2;
    off += 1 + l;
  }
}

/**
 * The parts of a reply the benchmarks check: id, rcode, flags, the A/AAAA addresses in the
 * answer section (sorted), and the ECS scope echoed in the OPT (-1 without ECS).
 */
export function parseReply(msg) {
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  const ns = msg.readUInt16BE(8);
  const ar = msg.readUInt16BE(10);
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(msg, off) + 4;
  const addresses = [];
  let ecsScope = -1;
  let ede = null;
  for (let i = 0; i < an + ns + ar; i++) {
    off = skipName(msg, off);
    const type = msg.readUInt16BE(off);
    const rdlength = msg.readUInt16BE(off + 8);
    const rd = off + 10;
    if (i < an && type === 1 && rdlength === 4) addresses.push([...msg.subarray(rd, rd + 4)].join('.'));
    if (i < an && type === 28 && rdlength === 16) {
      addresses.push(ipv6Text(msg.subarray(rd, rd + 16)));
    }
    if (type === 41) {
      let o = rd;
      while (o + 4 <= rd + rdlength) {
        const code = msg.readUInt16BE(o);
        const len = msg.readUInt16BE(o + 2);
        if (code === 8) ecsScope = msg[o + 7];
        if (code === 15) ede = { code: msg.readUInt16BE(o + 4), text: msg.toString('utf8', o + 6, o + 4 + len) };
        o += 4 + len;
      }
    }
    off = rd + rdlength;
  }
  addresses.sort();
  return { id, rcode: flags & 0x0f, flags, addresses, ecsScope, ede };
}

/** RFC 5952 text of 16 address octets (the longest run of two or more zero groups becomes ::). */
export function ipv6Text(b) {
  const groups = [];
  for (let g = 0; g < 8; g++) groups.push((b[2 * g] << 8) | b[2 * g + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLength).join(':');
}

/** Deterministic PRNG (mulberry32) so query files are reproducible from a seed. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
