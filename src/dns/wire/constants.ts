/**
 * DNS wire constants used by georoute (RFC 1035, RFC 6891, RFC 7871, RFC 8914). Plain `const`
 * objects (not `const enum`) so they survive isolated-module compilation.
 */

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended RCODE 16: header RCODE 0, OPT EXTENDED-RCODE 1 (RFC 6891 §6.1.3). */
  BADVERS: 16,
} as const;

export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  16: 'BADVERS',
};

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  OPT: 41,
  DS: 43,
  TLSA: 52,
  SVCB: 64,
  HTTPS: 65,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  CAA: 257,
} as const;

/** QTYPE names used as metric labels; other types are counted as "other" (a bounded label set). */
export const QTYPE_METRIC_NAMES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  257: 'CAA',
};

export const CLASS_IN = 1;
/** The CHAOS class: server identity queries (RFC 4892). */
export const CLASS_CH = 3;

export const OPCODE_QUERY = 0;

/** Header flag bits (second 16-bit word). */
export const FLAG = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
} as const;

export const EDNS_OPTION = {
  /** RFC 5001 name server identifier. */
  NSID: 3,
  CLIENT_SUBNET: 8,
  EXTENDED_ERROR: 15,
} as const;

/** RFC 8914 INFO-CODEs used here. */
export const EDE_CODE = {
  OTHER: 0,
  PROHIBITED: 18,
} as const;

export const HEADER_LENGTH = 12;
/** RFC 1035 §4.2.1: the UDP payload limit without EDNS. */
export const CLASSIC_UDP_LIMIT = 512;
/** What we advertise and never exceed over UDP (DNS Flag Day 2020). */
export const OUR_UDP_SIZE = 1232;
/** A DNS message over TCP carries a 16-bit length. */
export const TCP_MESSAGE_LIMIT = 65535;
/** RFC 1035 §2.3.4. */
export const MAX_LABEL_LENGTH = 63;
export const MAX_NAME_WIRE_LENGTH = 255;
