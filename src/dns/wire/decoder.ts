/**
 * Strict decoder for incoming DNS queries. Reads the header, exactly one question and the
 * additional section (one OPT at most, with EDNS Client Subnet validated per RFC 7871 §6) with
 * plain Buffer reads: no dns2, no per-query objects (the result is written into a reusable
 * `DecodedQuery`).
 *
 * Contract:
 * - never throws, for any input (fuzzed in decoder.fuzz.spec.ts);
 * - `status` says what the responder must do:
 *   DROP     shorter than a header, or QR = 1 (a response): no reply;
 *   FORMERR  the header is readable but the message is not a well-formed query;
 *   NOTIMP   a readable message with an OPCODE other than QUERY;
 *   BADVERS  a well-formed query whose OPT has VERSION > 0;
 *   QUERY    a well-formed query: `qname` (lower case, presentation form), `qtype`, `qclass`,
 *            EDNS, ECS and NSID fields are valid.
 * - `questionEnd` > 12 only when the question was read completely: the reply echoes
 *   `msg[12, questionEnd)` byte for byte (original letter case, RFC 4343 §3).
 * - `hasOpt` is true only when the query carried exactly one well-formed OPT in the additional
 *   section; the reply then carries an OPT (also on FORMERR caused by a bad ECS option, but then
 *   `hasEcs` is false: a FORMERR reply carries no ECS option).
 *
 * Choices (documented in README.md):
 * - compression pointers in the question name are rejected (FORMERR): the only octets before the
 *   question are the header, so no valid query needs one;
 * - names in the answer/authority/additional sections are skipped, not followed: a pointer must
 *   point before the name it ends (backwards), else FORMERR;
 * - octets after the last declared record are ignored;
 * - an OPT outside the additional section, two OPTs, an OPT whose owner is not the root, a
 *   truncated option, two ECS options or an invalid ECS option are FORMERR;
 * - unknown EDNS options and flag bits are ignored; the DO bit is read (the reply copies it, RFC 3225 §3);
 * - EDNS UDP sizes below 512 are treated as 512.
 */
import { CLASSIC_UDP_LIMIT, EDNS_OPTION, HEADER_LENGTH, MAX_LABEL_LENGTH, MAX_NAME_WIRE_LENGTH, OPCODE_QUERY, TYPE } from './constants';

export const DecodeStatus = {
  DROP: 0,
  FORMERR: 1,
  NOTIMP: 2,
  BADVERS: 3,
  QUERY: 4,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/**
 * Why a message was dropped or answered FORMERR. Constant strings: setting one allocates nothing.
 * Tests assert them; the responder only uses `status`.
 */
export type DecodeProblem =
  | ''
  | 'short-header'
  | 'response'
  | 'qdcount'
  | 'name-truncated'
  | 'name-pointer'
  | 'label-type'
  | 'name-too-long'
  | 'question-truncated'
  | 'rr-truncated'
  | 'rr-name'
  | 'opt-not-additional'
  | 'opt-duplicate'
  | 'opt-owner'
  | 'option-truncated'
  | 'ecs-short'
  | 'ecs-family'
  | 'ecs-source'
  | 'ecs-scope'
  | 'ecs-address-length'
  | 'ecs-address-bits'
  | 'ecs-duplicate';

/** The decoded query, reused across calls (fields are overwritten by every `decodeQuery`). */
export class DecodedQuery {
  status: DecodeStatus = DecodeStatus.DROP;
  problem: DecodeProblem = '';
  /** Raw 16-bit ID and flags word as received. */
  id = 0;
  flags = 0;
  opcode = 0;
  /** Offset just past QCLASS when the question was read, else 12 (no question to echo). */
  questionEnd = HEADER_LENGTH;
  /** Lower-case name in presentation form without the trailing dot ('' = root). Octets other
   * than printable ASCII, '.' and '\' are written as \DDD so labels cannot alias each other. */
  qname = '';
  /** Length of the question name on the wire, root octet included. */
  qnameWireLength = 0;
  qtype = 0;
  qclass = 0;
  hasOpt = false;
  ednsVersion = 0;
  /** The client's UDP payload size, at least 512. */
  udpSize = CLASSIC_UDP_LIMIT;
  dnssecOk = false;
  hasEcs = false;
  /** The OPT carried an NSID option (RFC 5001): the reply names this server. */
  wantsNsid = false;
  /** 1 = IPv4, 2 = IPv6. */
  ecsFamily = 0;
  ecsSourcePrefix = 0;
  /** ceil(source / 8) octets of address in `ecsAddress`; the rest of `ecsAddress` is zero. */
  ecsAddressLength = 0;
  readonly ecsAddress: Buffer = Buffer.alloc(16);
}

/** Lower-case presentation name scratch: 253 content octets escaped at worst as \DDD plus dots. */
const NAME_SCRATCH = Buffer.alloc(1100);

// Negative results of the name readers.
const E_TRUNCATED = -1;
const E_POINTER = -2;
const E_LABEL_TYPE = -3;
const E_TOO_LONG = -4;

/** Decodes `msg` into `out`. Never throws. */
export function decodeQuery(msg: Buffer, out: DecodedQuery): DecodedQuery {
  out.status = DecodeStatus.DROP;
  out.problem = '';
  out.questionEnd = HEADER_LENGTH;
  out.qname = '';
  out.qnameWireLength = 0;
  out.qtype = 0;
  out.qclass = 0;
  out.hasOpt = false;
  out.ednsVersion = 0;
  out.udpSize = CLASSIC_UDP_LIMIT;
  out.dnssecOk = false;
  out.hasEcs = false;
  out.wantsNsid = false;
  out.ecsFamily = 0;
  out.ecsSourcePrefix = 0;
  out.ecsAddressLength = 0;

  const len = msg.length;
  if (len < HEADER_LENGTH) return finish(out, DecodeStatus.DROP, 'short-header');
  out.id = (msg[0] << 8) | msg[1];
  const flags = (msg[2] << 8) | msg[3];
  out.flags = flags;
  out.opcode = (flags >>> 11) & 0x0f;
  if ((flags & 0x8000) !== 0) return finish(out, DecodeStatus.DROP, 'response');
  const notImp = out.opcode !== OPCODE_QUERY;

  const qdcount = (msg[4] << 8) | msg[5];
  const ancount = (msg[6] << 8) | msg[7];
  const nscount = (msg[8] << 8) | msg[9];
  const arcount = (msg[10] << 8) | msg[11];

  let off = HEADER_LENGTH;
  if (qdcount !== 1) {
    // Only a single question is answerable (RFC 9619). With QDCOUNT 0 the other sections can
    // still be located, so an OPT is read for the reply; with two or more we stop here.
    if (qdcount > 1) return finish(out, notImp ? DecodeStatus.NOTIMP : DecodeStatus.FORMERR, 'qdcount');
    const problem = readSections(msg, off, ancount, nscount, arcount, out);
    if (problem !== '' && !optSurvives(problem)) out.hasOpt = false;
    out.hasEcs = false; // a FORMERR reply carries no ECS option
    return finish(out, notImp ? DecodeStatus.NOTIMP : DecodeStatus.FORMERR, problem === '' ? 'qdcount' : problem);
  }

  const nameEnd = readQuestionName(msg, off, out);
  if (nameEnd < 0) return finish(out, notImp ? DecodeStatus.NOTIMP : DecodeStatus.FORMERR, nameProblem(nameEnd));
  if (nameEnd + 4 > len) return finish(out, notImp ? DecodeStatus.NOTIMP : DecodeStatus.FORMERR, 'question-truncated');
  out.qtype = (msg[nameEnd] << 8) | msg[nameEnd + 1];
  out.qclass = (msg[nameEnd + 2] << 8) | msg[nameEnd + 3];
  off = nameEnd + 4;
  out.questionEnd = off;

  const problem = readSections(msg, off, ancount, nscount, arcount, out);
  if (problem !== '') {
    if (!optSurvives(problem)) out.hasOpt = false;
    out.hasEcs = false; // a FORMERR reply carries no ECS option (the first of two ECS options was read)
    return finish(out, notImp ? DecodeStatus.NOTIMP : DecodeStatus.FORMERR, problem);
  }
  if (notImp) return finish(out, DecodeStatus.NOTIMP, '');
  if (out.hasOpt && out.ednsVersion > 0) return finish(out, DecodeStatus.BADVERS, '');
  return finish(out, DecodeStatus.QUERY, '');
}

function finish(out: DecodedQuery, status: DecodeStatus, problem: DecodeProblem): DecodedQuery {
  out.status = status;
  out.problem = problem;
  return out;
}

/** An OPT is echoed on FORMERR only when the OPT record itself was sound (an option was bad). */
function optSurvives(p: DecodeProblem): boolean {
  return p === 'option-truncated' || p.startsWith('ecs-');
}

function nameProblem(code: number): DecodeProblem {
  switch (code) {
    case E_POINTER:
      return 'name-pointer';
    case E_LABEL_TYPE:
      return 'label-type';
    case E_TOO_LONG:
      return 'name-too-long';
    default:
      return 'name-truncated';
  }
}

/**
 * Reads the question name at `start` (no compression allowed), writing its lower-case
 * presentation form into `out.qname`. Returns the offset after the name, or a negative E_*.
 */
function readQuestionName(msg: Buffer, start: number, out: DecodedQuery): number {
  const len = msg.length;
  const scratch = NAME_SCRATCH;
  let p = start;
  let wire = 0;
  let w = 0;
  for (;;) {
    if (p >= len) return E_TRUNCATED;
    const l = msg[p];
    if (l === 0) {
      wire += 1;
      p += 1;
      break;
    }
    if ((l & 0xc0) === 0xc0) return E_POINTER;
    if (l > MAX_LABEL_LENGTH) return E_LABEL_TYPE; // 0x40 and 0x80 prefixes: extended label types
    // Room for this label and the root octet that must still follow.
    if (wire + 1 + l + 1 > MAX_NAME_WIRE_LENGTH) return E_TOO_LONG;
    if (p + 1 + l > len) return E_TRUNCATED;
    if (w > 0) scratch[w++] = 0x2e;
    const end = p + 1 + l;
    for (let i = p + 1; i < end; i++) {
      const b = msg[i];
      if (b >= 0x41 && b <= 0x5a) {
        scratch[w++] = b | 0x20;
      } else if (b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c) {
        scratch[w++] = b;
      } else {
        // \DDD (RFC 1035 §5.1) keeps a '.' or odd octet inside a label from matching a real name.
        scratch[w++] = 0x5c;
        scratch[w++] = 0x30 + ((b / 100) | 0);
        scratch[w++] = 0x30 + (((b / 10) | 0) % 10);
        scratch[w++] = 0x30 + (b % 10);
      }
    }
    wire += 1 + l;
    p = end;
  }
  out.qname = w === 0 ? '' : scratch.toString('latin1', 0, w);
  out.qnameWireLength = wire;
  return p;
}

/**
 * Skips a (possibly compressed) name in a non-question section. A pointer ends the name and must
 * point before the name's first octet. Returns the offset after the name or a negative E_*.
 */
function skipName(msg: Buffer, start: number): number {
  const len = msg.length;
  let p = start;
  let wire = 0;
  for (;;) {
    if (p >= len) return E_TRUNCATED;
    const l = msg[p];
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) {
      if (p + 2 > len) return E_TRUNCATED;
      const target = ((l & 0x3f) << 8) | msg[p + 1];
      if (target >= start) return E_POINTER;
      return p + 2;
    }
    if (l > MAX_LABEL_LENGTH) return E_LABEL_TYPE;
    wire += 1 + l;
    if (wire + 1 > MAX_NAME_WIRE_LENGTH) return E_TOO_LONG;
    p += 1 + l;
  }
}

/**
 * Walks the answer, authority and additional sections (bounds-checked), reading the OPT.
 * Returns '' when all declared records were read, else the problem.
 */
function readSections(
  msg: Buffer,
  start: number,
  ancount: number,
  nscount: number,
  arcount: number,
  out: DecodedQuery,
): DecodeProblem {
  const len = msg.length;
  const total = ancount + nscount + arcount;
  const additionalFrom = ancount + nscount;
  let off = start;
  for (let i = 0; i < total; i++) {
    const nameStart = off;
    const nameEnd = skipName(msg, off);
    if (nameEnd < 0) return nameEnd === E_TRUNCATED ? 'rr-truncated' : 'rr-name';
    if (nameEnd + 10 > len) return 'rr-truncated';
    const type = (msg[nameEnd] << 8) | msg[nameEnd + 1];
    const rdlength = (msg[nameEnd + 8] << 8) | msg[nameEnd + 9];
    const rdStart = nameEnd + 10;
    const rdEnd = rdStart + rdlength;
    if (rdEnd > len) return 'rr-truncated';
    if (type === TYPE.OPT) {
      if (i < additionalFrom) return 'opt-not-additional';
      if (out.hasOpt) return 'opt-duplicate';
      if (nameEnd !== nameStart + 1) return 'opt-owner';
      out.hasOpt = true;
      const size = (msg[nameEnd + 2] << 8) | msg[nameEnd + 3];
      out.udpSize = size < CLASSIC_UDP_LIMIT ? CLASSIC_UDP_LIMIT : size;
      out.ednsVersion = msg[nameEnd + 5];
      out.dnssecOk = (msg[nameEnd + 6] & 0x80) !== 0;
      // Options of another EDNS version have unknown meaning: BADVERS without reading them.
      if (out.ednsVersion === 0) {
        const problem = readOptions(msg, rdStart, rdEnd, out);
        if (problem !== '') return problem;
      }
    }
    off = rdEnd;
  }
  return '';
}

function readOptions(msg: Buffer, start: number, end: number, out: DecodedQuery): DecodeProblem {
  let o = start;
  while (o < end) {
    if (o + 4 > end) return 'option-truncated';
    const code = (msg[o] << 8) | msg[o + 1];
    const length = (msg[o + 2] << 8) | msg[o + 3];
    const dataStart = o + 4;
    if (dataStart + length > end) return 'option-truncated';
    if (code === EDNS_OPTION.CLIENT_SUBNET) {
      const problem = readClientSubnet(msg, dataStart, length, out);
      if (problem !== '') return problem;
    } else if (code === EDNS_OPTION.NSID) {
      out.wantsNsid = true; // RFC 5001 §2.3: the request's payload is empty; any content is ignored
    }
    o = dataStart + length;
  }
  return '';
}

/** RFC 7871 §6: every malformed option is FORMERR. */
function readClientSubnet(msg: Buffer, start: number, length: number, out: DecodedQuery): DecodeProblem {
  if (out.hasEcs) return 'ecs-duplicate';
  if (length < 4) return 'ecs-short';
  const family = (msg[start] << 8) | msg[start + 1];
  const source = msg[start + 2];
  const scope = msg[start + 3];
  if (family !== 1 && family !== 2) return 'ecs-family';
  if (source > (family === 1 ? 32 : 128)) return 'ecs-source';
  if (scope !== 0) return 'ecs-scope';
  const addressLength = (source + 7) >>> 3;
  if (length - 4 !== addressLength) return 'ecs-address-length';
  const a = start + 4;
  const spare = source & 7;
  if (addressLength > 0 && spare !== 0 && (msg[a + addressLength - 1] & (0xff >>> spare)) !== 0) {
    return 'ecs-address-bits';
  }
  out.hasEcs = true;
  out.ecsFamily = family;
  out.ecsSourcePrefix = source;
  out.ecsAddressLength = addressLength;
  // Byte loop: at most 16 octets, and Buffer#fill / #copy of a range cost more than the copy.
  const address = out.ecsAddress;
  for (let i = 0; i < 16; i++) address[i] = i < addressLength ? msg[a + i] : 0;
  return '';
}
