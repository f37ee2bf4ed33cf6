/**
 * The record types after the classic seven: SRV (RFC 2782), PTR (RFC 1035), NAPTR (RFC 3403),
 * DS (RFC 4034), TLSA (RFC 6698), SVCB and HTTPS (RFC 9460). One parser per type turns a value in
 * presentation form into a structure, from which come the canonical text the registry stores, the
 * presentation for a master file (names fully qualified) and the RDATA in wire form.
 *
 * Pure and synchronous; the registry validates with it (a bad value throws `RdataError` naming the
 * rule), the DNS view encodes with it at snapshot time, the BIND export and the zone import
 * present and read with it. Names inside RDATA are absolute (as in CNAME and MX values), stored
 * lower case without the trailing dot; in wire form they are never compressed (RFC 2782, RFC 3403
 * and RFC 9460 forbid it for SRV, NAPTR and SVCB; a PTR target may be, but need not be).
 */
import * as ipaddr from 'ipaddr.js';
import { checkDomainName, normalizeName } from './dns-name';

export const MODERN_RECORD_TYPES = ['SRV', 'HTTPS', 'SVCB', 'TLSA', 'PTR', 'NAPTR', 'DS'] as const;
export type ModernRecordType = (typeof MODERN_RECORD_TYPES)[number];

export const MODERN_TYPE_CODES: Readonly<Record<ModernRecordType, number>> = {
  PTR: 12,
  SRV: 33,
  NAPTR: 35,
  DS: 43,
  TLSA: 52,
  SVCB: 64,
  HTTPS: 65,
};

export function isModernRecordType(type: string): type is ModernRecordType {
  return (MODERN_RECORD_TYPES as readonly string[]).includes(type);
}

/** A value that does not parse: `rule` is the short machine name (e.g. "svcb-mandatory"). */
export class RdataError extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
    this.name = 'RdataError';
  }
}

// ---------- tokens ----------

/**
 * Splits presentation text into fields: whitespace separates, "..." groups (with \" and \DDD
 * escapes kept for the field's own decoder). `quoted` says whether the field was in quotes.
 */
function fields(text: string, rule: string): { text: string; quoted: boolean }[] {
  const out: { text: string; quoted: boolean }[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    let field = '';
    let quoted = false;
    // A field may be key="quoted value": the quotes belong to the value part.
    while (i < text.length && !/\s/.test(text[i])) {
      if (text[i] === '"') {
        quoted = true;
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < text.length) {
            field += text[i] + text[i + 1];
            i += 2;
          } else field += text[i++];
        }
        if (i >= text.length) throw new RdataError(rule, 'has an unterminated quoted string');
        i++;
        continue;
      }
      if (text[i] === '\\' && i + 1 < text.length) {
        field += text[i] + text[i + 1];
        i += 2;
        continue;
      }
      field += text[i++];
    }
    out.push({ text: field, quoted });
  }
  return out;
}

/** RFC 1035 §5.1 escapes: \X is X, \DDD is the octet DDD. */
function unescape(text: string, rule: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      for (const b of Buffer.from(text[i], 'utf8')) bytes.push(b);
      continue;
    }
    const digits = /^\d{3}/.exec(text.slice(i + 1, i + 4));
    if (digits) {
      const v = Number(digits[0]);
      if (v > 255) throw new RdataError(rule, `has an escape \\${digits[0]} above 255`);
      bytes.push(v);
      i += 3;
    } else if (i + 1 < text.length) {
      bytes.push(text.charCodeAt(i + 1) & 0xff);
      i += 1;
    } else throw new RdataError(rule, 'ends in a lone backslash');
  }
  return Buffer.from(bytes);
}

/** A <character-string> in presentation form: quoted, with " and \ escaped and other octets outside printable ASCII as \DDD. */
function quote(b: Buffer): string {
  let s = '"';
  for (const o of b) {
    if (o === 0x22 || o === 0x5c) s += `\\${String.fromCharCode(o)}`;
    else if (o >= 0x20 && o < 0x7f) s += String.fromCharCode(o);
    else s += `\\${String(o).padStart(3, '0')}`;
  }
  return `${s}"`;
}

function uint(text: string, max: number, rule: string, what: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > max) throw new RdataError(rule, `${what} must be a whole number from 0 to ${max} (got "${text}")`);
  return Number(text);
}

function hostName(text: string, rule: string, what: string, allowRoot: boolean): string {
  if (text === '.' || text === '') {
    if (allowRoot) return '';
    throw new RdataError(rule, `${what} must be a domain name, not the root`);
  }
  const problem = checkDomainName(text, { allowUnderscore: true });
  if (problem !== null) throw new RdataError(rule, `${what} "${text}" is not a valid domain name: ${problem}`);
  return normalizeName(text);
}

function hex(text: string, rule: string, what: string): Buffer {
  const h = text.replace(/\s+/g, '');
  if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h)) throw new RdataError(rule, `${what} must be an even number of hexadecimal digits`);
  return Buffer.from(h, 'hex');
}

/** Names in wire form, uncompressed. '' is the root. */
function nameWire(name: string): Buffer {
  const parts: Buffer[] = [];
  if (name !== '') for (const label of name.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

const fq = (name: string): string => (name === '' ? '.' : `${name}.`);
const rel = (name: string): string => (name === '' ? '.' : name);

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
}

function charString(b: Buffer, rule: string, what: string): Buffer {
  if (b.length > 255) throw new RdataError(rule, `${what} must be at most 255 octets`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

// ---------- the types ----------

interface Codec<T> {
  parse(text: string): T;
  /** Presentation; `absolute` writes names with the trailing dot (master files). */
  present(v: T, absolute: boolean): string;
  wire(v: T): Buffer;
  /** Names whose addresses go into the additional section (RFC 2782, RFC 9460 §4.2), '' for none. */
  target(v: T, owner: string): string | null;
}

interface Srv {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

const SRV: Codec<Srv> = {
  parse(text) {
    const f = fields(text, 'srv');
    if (f.length !== 4) throw new RdataError('srv', 'must be "<priority> <weight> <port> <target>", e.g. "10 5 5060 sip.example.com"');
    return {
      priority: uint(f[0].text, 65535, 'srv', 'priority'),
      weight: uint(f[1].text, 65535, 'srv', 'weight'),
      port: uint(f[2].text, 65535, 'srv', 'port'),
      target: hostName(f[3].text, 'srv', 'target', true), // "." = service decidedly not available (RFC 2782)
    };
  },
  present: (v, abs) => `${v.priority} ${v.weight} ${v.port} ${abs ? fq(v.target) : rel(v.target)}`,
  wire: (v) => Buffer.concat([u16(v.priority), u16(v.weight), u16(v.port), nameWire(v.target)]),
  target: (v) => (v.target === '' ? null : v.target),
};

const PTR: Codec<{ target: string }> = {
  parse(text) {
    const f = fields(text, 'ptr');
    if (f.length !== 1) throw new RdataError('ptr', 'must be one domain name, e.g. "host.example.com"');
    return { target: hostName(f[0].text, 'ptr', 'target', false) };
  },
  present: (v, abs) => (abs ? fq(v.target) : v.target),
  wire: (v) => nameWire(v.target),
  target: () => null,
};

interface Naptr {
  order: number;
  preference: number;
  flags: Buffer;
  services: Buffer;
  regexp: Buffer;
  replacement: string;
}

const NAPTR: Codec<Naptr> = {
  parse(text) {
    const f = fields(text, 'naptr');
    if (f.length !== 6) {
      throw new RdataError('naptr', 'must be \'<order> <preference> "<flags>" "<services>" "<regexp>" <replacement>\', e.g. \'100 10 "S" "SIP+D2U" "" _sip._udp.example.com\'');
    }
    const flags = unescape(f[2].text, 'naptr');
    if (!/^[A-Za-z0-9]*$/.test(flags.toString('latin1'))) throw new RdataError('naptr-flags', 'flags must be letters and digits only (RFC 3403 §4.1)');
    const services = unescape(f[3].text, 'naptr');
    if (!/^[A-Za-z0-9+:._-]*$/.test(services.toString('latin1'))) throw new RdataError('naptr-services', 'services must be letters, digits and + : . _ - (RFC 3403 §4.1)');
    const regexp = unescape(f[4].text, 'naptr');
    const replacement = hostName(f[5].text, 'naptr', 'replacement', true);
    if (regexp.length > 0 && replacement !== '') throw new RdataError('naptr-regexp-replacement', 'regexp and replacement are mutually exclusive: one of them must be empty ("" or ".") (RFC 3403 §4.1)');
    for (const [b, what] of [[flags, 'flags'], [services, 'services'], [regexp, 'regexp']] as const) charString(b, 'naptr', what);
    return { order: uint(f[0].text, 65535, 'naptr', 'order'), preference: uint(f[1].text, 65535, 'naptr', 'preference'), flags: Buffer.from(flags.toString('latin1').toUpperCase(), 'latin1'), services, regexp, replacement };
  },
  present: (v, abs) => `${v.order} ${v.preference} ${quote(v.flags)} ${quote(v.services)} ${quote(v.regexp)} ${abs ? fq(v.replacement) : rel(v.replacement)}`,
  wire: (v) =>
    Buffer.concat([u16(v.order), u16(v.preference), charString(v.flags, 'naptr', 'flags'), charString(v.services, 'naptr', 'services'), charString(v.regexp, 'naptr', 'regexp'), nameWire(v.replacement)]),
  target: () => null,
};

/** DS digest lengths by digest type (RFC 4034 SHA-1, RFC 4509 SHA-256, RFC 6605 SHA-384). */
const DS_DIGEST_LENGTHS: Readonly<Record<number, number>> = { 1: 20, 2: 32, 4: 48 };

interface Ds {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: Buffer;
}

const DS: Codec<Ds> = {
  parse(text) {
    const f = fields(text, 'ds');
    if (f.length < 4) throw new RdataError('ds', 'must be "<key tag> <algorithm> <digest type> <digest hex>", e.g. "12345 13 2 <64 hex digits>"');
    const algorithm = uint(f[1].text, 255, 'ds', 'algorithm');
    if (algorithm === 0) throw new RdataError('ds-algorithm', 'algorithm 0 is reserved (RFC 4034 App. A.1)');
    const digestType = uint(f[2].text, 255, 'ds', 'digest type');
    const length = DS_DIGEST_LENGTHS[digestType];
    if (length === undefined) throw new RdataError('ds-digest-type', 'digest type must be 1 (SHA-1), 2 (SHA-256) or 4 (SHA-384)');
    const digest = hex(f.slice(3).map((x) => x.text).join(''), 'ds-digest', 'digest');
    if (digest.length !== length) throw new RdataError('ds-digest', `a digest of type ${digestType} is ${length} octets (${length * 2} hex digits), got ${digest.length}`);
    return { keyTag: uint(f[0].text, 65535, 'ds', 'key tag'), algorithm, digestType, digest };
  },
  present: (v) => `${v.keyTag} ${v.algorithm} ${v.digestType} ${v.digest.toString('hex').toUpperCase()}`,
  wire: (v) => Buffer.concat([u16(v.keyTag), Buffer.from([v.algorithm, v.digestType]), v.digest]),
  target: () => null,
};

interface Tlsa {
  usage: number;
  selector: number;
  matchingType: number;
  data: Buffer;
}

const TLSA_LENGTHS: Readonly<Record<number, number>> = { 1: 32, 2: 64 };

const TLSA: Codec<Tlsa> = {
  parse(text) {
    const f = fields(text, 'tlsa');
    if (f.length < 4) throw new RdataError('tlsa', 'must be "<usage 0-3> <selector 0-1> <matching type 0-2> <data hex>", e.g. "3 1 1 <64 hex digits>"');
    const usage = uint(f[0].text, 255, 'tlsa-usage', 'usage');
    if (usage > 3) throw new RdataError('tlsa-usage', 'usage must be 0 (PKIX-TA), 1 (PKIX-EE), 2 (DANE-TA) or 3 (DANE-EE) (RFC 7218)');
    const selector = uint(f[1].text, 255, 'tlsa-selector', 'selector');
    if (selector > 1) throw new RdataError('tlsa-selector', 'selector must be 0 (Cert) or 1 (SPKI)');
    const matchingType = uint(f[2].text, 255, 'tlsa-matching-type', 'matching type');
    if (matchingType > 2) throw new RdataError('tlsa-matching-type', 'matching type must be 0 (Full), 1 (SHA2-256) or 2 (SHA2-512)');
    const data = hex(f.slice(3).map((x) => x.text).join(''), 'tlsa-data', 'certificate association data');
    const length = TLSA_LENGTHS[matchingType];
    if (length !== undefined && data.length !== length) throw new RdataError('tlsa-data', `matching type ${matchingType} carries a ${length}-octet digest (${length * 2} hex digits), got ${data.length}`);
    return { usage, selector, matchingType, data };
  },
  present: (v) => `${v.usage} ${v.selector} ${v.matchingType} ${v.data.toString('hex').toUpperCase()}`,
  wire: (v) => Buffer.concat([Buffer.from([v.usage, v.selector, v.matchingType]), v.data]),
  target: () => null,
};

// ---------- SVCB / HTTPS (RFC 9460) ----------

const SVC_KEYS: Readonly<Record<string, number>> = {
  mandatory: 0,
  alpn: 1,
  'no-default-alpn': 2,
  port: 3,
  ipv4hint: 4,
  ech: 5,
  ipv6hint: 6,
  dohpath: 7, // RFC 9461
  ohttp: 8, // RFC 9540
};
const SVC_KEY_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(SVC_KEYS).map(([n, k]) => [k, n]));

function svcKey(name: string): number {
  const known = SVC_KEYS[name];
  if (known !== undefined) return known;
  const m = /^key(\d{1,5})$/.exec(name);
  if (m === null || Number(m[1]) > 65535) throw new RdataError('svcb-key', `unknown SvcParamKey "${name}" (known: ${Object.keys(SVC_KEYS).join(', ')}, or keyNNNNN)`);
  const key = Number(m[1]);
  if (key === 65535) throw new RdataError('svcb-key', 'key65535 is reserved (RFC 9460 §14.3.2)');
  return key;
}

const svcKeyName = (key: number): string => SVC_KEY_NAMES[key] ?? `key${key}`;

interface Svcb {
  priority: number;
  target: string;
  /** SvcParam values in wire form, by key, ascending. */
  params: Map<number, Buffer>;
}

function parseSvcValue(key: number, raw: string | null, rule: string): Buffer {
  const need = (): string => {
    if (raw === null || raw === '') throw new RdataError('svcb-value', `${svcKeyName(key)} needs a value`);
    return raw;
  };
  switch (key) {
    case 0: {
      const keys = need().split(',').map((k) => svcKey(k));
      if (keys.includes(0)) throw new RdataError('svcb-mandatory', 'mandatory must not list "mandatory" itself (RFC 9460 §8)');
      if (new Set(keys).size !== keys.length) throw new RdataError('svcb-mandatory', 'mandatory lists a key twice');
      return Buffer.concat(keys.sort((a, b) => a - b).map(u16));
    }
    case 1: {
      const ids = need().split(',');
      return Buffer.concat(
        ids.map((id) => {
          if (id === '' || !/^[\x21-\x7e]+$/.test(id) || /[\\",]/.test(id)) throw new RdataError('svcb-alpn', `alpn id "${id}" must be printable ASCII without spaces, commas, quotes or backslashes`);
          return charString(Buffer.from(id, 'latin1'), 'svcb-alpn', 'an alpn id');
        }),
      );
    }
    case 2:
    case 8:
      if (raw !== null && raw !== '') throw new RdataError('svcb-value', `${svcKeyName(key)} takes no value`);
      return Buffer.alloc(0);
    case 3:
      return u16(uint(need(), 65535, 'svcb-port', 'port'));
    case 4:
      return Buffer.concat(
        need()
          .split(',')
          .map((a) => {
            if (!ipaddr.IPv4.isValidFourPartDecimal(a)) throw new RdataError('svcb-ipv4hint', `ipv4hint "${a}" is not an IPv4 address`);
            return Buffer.from(ipaddr.IPv4.parse(a).toByteArray());
          }),
      );
    case 5: {
      const v = need();
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 !== 0) throw new RdataError('svcb-ech', 'ech must be base64 (RFC 4648 §4)');
      return Buffer.from(v, 'base64');
    }
    case 6:
      return Buffer.concat(
        need()
          .split(',')
          .map((a) => {
            if (!ipaddr.IPv6.isValid(a) || a.includes('%')) throw new RdataError('svcb-ipv6hint', `ipv6hint "${a}" is not an IPv6 address`);
            return Buffer.from(ipaddr.IPv6.parse(a).toByteArray());
          }),
      );
    case 7: {
      const v = unescape(need(), rule);
      const text = v.toString('utf8');
      if (!text.startsWith('/') || !text.includes('{?dns}')) throw new RdataError('svcb-dohpath', 'dohpath must be a relative URI template starting with "/" and containing "{?dns}" (RFC 9461 §5)');
      return v;
    }
    default:
      return raw === null ? Buffer.alloc(0) : unescape(raw, rule);
  }
}

function presentSvcValue(key: number, v: Buffer): string | null {
  switch (key) {
    case 0: {
      const keys: string[] = [];
      for (let i = 0; i < v.length; i += 2) keys.push(svcKeyName(v.readUInt16BE(i)));
      return keys.join(',');
    }
    case 1: {
      const ids: string[] = [];
      for (let i = 0; i < v.length; i += 1 + v[i]) ids.push(v.subarray(i + 1, i + 1 + v[i]).toString('latin1'));
      return `"${ids.join(',')}"`;
    }
    case 2:
    case 8:
      return null;
    case 3:
      return String(v.readUInt16BE(0));
    case 4: {
      const out: string[] = [];
      for (let i = 0; i < v.length; i += 4) out.push([...v.subarray(i, i + 4)].join('.'));
      return out.join(',');
    }
    case 5:
      return v.toString('base64');
    case 6: {
      const out: string[] = [];
      for (let i = 0; i < v.length; i += 16) out.push((ipaddr.fromByteArray([...v.subarray(i, i + 16)]) as ipaddr.IPv6).toRFC5952String());
      return out.join(',');
    }
    default:
      return v.length === 0 ? null : quote(v);
  }
}

function svcbCodec(rule: 'svcb' | 'https'): Codec<Svcb> {
  return {
    parse(text) {
      const f = fields(text, rule);
      if (f.length < 2) throw new RdataError(rule, 'must be "<priority> <target> [key=value ...]", e.g. \'1 . alpn="h2,h3" port=443\'');
      const priority = uint(f[0].text, 65535, rule, 'priority');
      const target = hostName(f[1].text, rule, 'target', true);
      const params = new Map<number, Buffer>();
      for (const field of f.slice(2)) {
        const eq = field.text.indexOf('=');
        const name = (eq < 0 ? field.text : field.text.slice(0, eq)).toLowerCase();
        const key = svcKey(name);
        if (params.has(key)) throw new RdataError('svcb-duplicate-key', `SvcParamKey ${name} appears twice (RFC 9460 §2.2)`);
        params.set(key, parseSvcValue(key, eq < 0 ? null : field.text.slice(eq + 1), rule));
      }
      if (priority === 0 && params.size > 0) throw new RdataError('svcb-alias-params', 'AliasMode (priority 0) takes no SvcParams (RFC 9460 §2.4.2)');
      const mandatory = params.get(0);
      if (mandatory !== undefined) {
        for (let i = 0; i < mandatory.length; i += 2) {
          const key = mandatory.readUInt16BE(i);
          if (!params.has(key)) throw new RdataError('svcb-mandatory', `mandatory lists ${svcKeyName(key)}, which the record does not carry (RFC 9460 §8)`);
        }
      }
      if (params.has(2) && !params.has(1)) throw new RdataError('svcb-no-default-alpn', 'no-default-alpn needs alpn beside it (RFC 9460 §7.1.1)');
      const sorted = new Map([...params.entries()].sort((a, b) => a[0] - b[0]));
      const v = { priority, target, params: sorted };
      if (svcbWire(v).length > 65535) throw new RdataError(rule, 'is longer than 65,535 octets');
      return v;
    },
    present(v, abs) {
      const parts = [String(v.priority), abs ? fq(v.target) : rel(v.target)];
      for (const [key, value] of v.params) {
        const text = presentSvcValue(key, value);
        parts.push(text === null ? svcKeyName(key) : `${svcKeyName(key)}=${text}`);
      }
      return parts.join(' ');
    },
    wire: svcbWire,
    // RFC 9460 §4.2: "." in ServiceMode is the owner itself.
    target: (v, owner) => (v.target === '' ? (v.priority === 0 ? null : owner) : v.target),
  };
}

function svcbWire(v: Svcb): Buffer {
  const parts = [u16(v.priority), nameWire(v.target)];
  for (const [key, value] of v.params) parts.push(u16(key), u16(value.length), value);
  return Buffer.concat(parts);
}

const CODECS: Readonly<Record<ModernRecordType, Codec<never>>> = {
  SRV: SRV as Codec<never>,
  PTR: PTR as Codec<never>,
  NAPTR: NAPTR as Codec<never>,
  DS: DS as Codec<never>,
  TLSA: TLSA as Codec<never>,
  SVCB: svcbCodec('svcb') as Codec<never>,
  HTTPS: svcbCodec('https') as Codec<never>,
};

/** The canonical text of a value (what the registry stores and the YAML export shows). Throws RdataError. */
export function canonicalModernValue(type: ModernRecordType, text: string): string {
  const codec = CODECS[type];
  return codec.present(codec.parse(text), false);
}

/** The value as a master file writes it: names fully qualified. Throws RdataError. */
export function masterFileModernValue(type: ModernRecordType, text: string): string {
  const codec = CODECS[type];
  return codec.present(codec.parse(text), true);
}

/** RDATA in wire form (names uncompressed). Throws RdataError. */
export function modernRdata(type: ModernRecordType, text: string): Buffer {
  const codec = CODECS[type];
  return codec.wire(codec.parse(text));
}

/** The name whose A/AAAA belong in the additional section (SRV target, SVCB/HTTPS target or owner), or null. */
export function modernAdditionalTarget(type: ModernRecordType, text: string, owner: string): string | null {
  const codec = CODECS[type];
  return codec.target(codec.parse(text), owner);
}
