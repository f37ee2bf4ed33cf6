/**
 * DnsResponder: one DNS message in, one reply (or nothing) out. Synchronous, transport-agnostic,
 * never throws.
 *
 * Inputs: the raw message, the peer address, the transport; the current ZoneView (built from a
 * RoutingSnapshot by `setSnapshot`, off the hot path); a locator and the routing engine's
 * `decide` for service names.
 * Output: the reply bytes, or null when the message must not be answered (shorter than a header,
 * or QR = 1).
 *
 * Behaviour (DESIGN.md §6): AA for in-zone data; RD copied; RA, AD, CD and Z clear; NXDOMAIN /
 * NODATA with the SOA in authority; REFUSED (AA=0) outside every zone, for QCLASS other than IN,
 * and for AXFR/IXFR over any transport; NOTIMP for OPCODEs other than QUERY; FORMERR for malformed
 * queries; BADVERS for EDNS versions above 0; a minimal ANY (RFC 8482); service names answered
 * through `decide` (a refused decision is SERVFAIL with an Extended DNS Error when the query had
 * EDNS). An OPT is in the reply exactly when the query had a well-formed one: payload size 1232,
 * version 0, DO clear, ECS echoed with the decision's scope. A reply that does not fit the UDP
 * limit (min(max(client, 512), 1232) with EDNS, 512 without) drops its glue first, then is sent
 * as TC=1 with the question (and OPT) only. Any exception while answering is reported through
 * `onError` and answered SERVFAIL, for that query only.
 *
 * Hot path: decode into a reused DecodedQuery, one map look-up of the lower-case name, then either
 * a pre-encoded reply by QTYPE or (service names) one look-up in that name's per-client cache of
 * engine replies; then one Buffer.allocUnsafe and copies (ID, flags, the question's original
 * bytes, the prepared body, the OPT). The cache lives in the view, so a new snapshot empties it.
 */
import type { Decision, GeoLocation, RouteQuery, RoutingSnapshot } from '../routing/types';
import { prepared, withScope, type PreparedAnswer } from './answer';
import { ipv4Text, ipv6Text } from './wire/address-text';
import {
  CLASS_IN,
  CLASSIC_UDP_LIMIT,
  EDE_CODE,
  EDNS_OPTION,
  FLAG,
  HEADER_LENGTH,
  OUR_UDP_SIZE,
  RCODE,
  RCODE_NAMES,
  QTYPE_METRIC_NAMES,
  TCP_MESSAGE_LIMIT,
  TYPE,
} from './wire/constants';
import { DecodedQuery, DecodeStatus, decodeQuery } from './wire/decoder';
import { ZoneView, type NameNode } from './zone-view';

export interface Locator {
  locate(ip: string): GeoLocation;
}

export type DecideFn = (snapshot: RoutingSnapshot, query: RouteQuery) => Decision | null;

export type Transport = 'udp' | 'tcp';

export interface PeerAddress {
  address: string;
  family: 4 | 6;
}

export interface ResponderErrorContext {
  /** 'decide': the locator or the engine threw; 'respond': anything else while answering. */
  readonly stage: 'decide' | 'respond';
  readonly qname: string;
  readonly qtype: number;
  readonly transport: Transport;
}

export interface DnsResponderDeps {
  readonly locator: Locator;
  readonly decide: DecideFn;
  readonly onError?: (err: unknown, ctx: ResponderErrorContext) => void;
  /** Most engine replies kept (all names, all clients); the cache is emptied when full. Default 100,000. */
  readonly cacheSize?: number;
}

/** Counters for metrics: a plain object, copied on every call. */
export interface ResponderStats {
  /** Replies sent, by transport and RCODE name (NOERROR, NXDOMAIN, ..., BADVERS). */
  readonly replies: { readonly udp: Record<string, number>; readonly tcp: Record<string, number> };
  /** Queries with a decoded question, by transport and QTYPE name (see QTYPE_METRIC_NAMES; the rest are "other"). */
  readonly queriesByType: { readonly udp: Record<string, number>; readonly tcp: Record<string, number> };
  /** Messages shorter than a header (no ID to answer with). */
  readonly malformedDropped: number;
  /** Messages with QR = 1 (responses sent to us). */
  readonly responsesDropped: number;
  /** Exceptions turned into SERVFAIL. */
  readonly handlerErrors: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly cachedAnswers: number;
  /** Version of the snapshot answered from, or -1 before the first. */
  readonly snapshotVersion: number;
}

export const DEFAULT_ANSWER_CACHE_SIZE = 100_000;
/** EXTRA-TEXT is cut to this many octets so a refusal always fits 512 octets. */
const MAX_EDE_TEXT = 200;

const FORMERR = prepared(RCODE.FORMERR, false);
const NOTIMP = prepared(RCODE.NOTIMP, false);
const REFUSED = prepared(RCODE.REFUSED, false);
const SERVFAIL = prepared(RCODE.SERVFAIL, false);
const BADVERS = prepared(RCODE.BADVERS, false);

export class DnsResponder {
  private view: ZoneView | null = null;
  private readonly query = new DecodedQuery();
  private readonly cacheSize: number;
  private cached = 0;
  private readonly udpReplies = new Float64Array(17);
  private readonly tcpReplies = new Float64Array(17);
  /** Indexed by QTYPE up to 257 (CAA); index 0 also holds every larger type. */
  private readonly udpTypes = new Float64Array(258);
  private readonly tcpTypes = new Float64Array(258);
  private malformedDropped = 0;
  private responsesDropped = 0;
  private handlerErrors = 0;
  private cacheHits = 0;
  private cacheMisses = 0;

  constructor(private readonly deps: DnsResponderDeps) {
    this.cacheSize = Math.max(1, Math.floor(deps.cacheSize ?? DEFAULT_ANSWER_CACHE_SIZE));
  }

  /**
   * Builds the DNS view of `snapshot` and swaps it in (emptying the reply cache). Throws if the
   * view cannot be built; the previous view then stays in service. Data problems that only skip
   * a record are listed in `warnings`.
   */
  setSnapshot(snapshot: RoutingSnapshot): void {
    if (this.view !== null && this.view.snapshot === snapshot) return;
    const view = ZoneView.build(snapshot);
    this.view = view;
    this.cached = 0;
  }

  /** Problems found in the current snapshot's DNS data (records skipped). */
  get warnings(): readonly string[] {
    return this.view?.warnings ?? [];
  }

  /** The current view (for diagnostics and tests). */
  get zoneView(): ZoneView | null {
    return this.view;
  }

  stats(): ResponderStats {
    return {
      replies: { udp: byRcodeName(this.udpReplies), tcp: byRcodeName(this.tcpReplies) },
      queriesByType: { udp: byTypeName(this.udpTypes), tcp: byTypeName(this.tcpTypes) },
      malformedDropped: this.malformedDropped,
      responsesDropped: this.responsesDropped,
      handlerErrors: this.handlerErrors,
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      cachedAnswers: this.cached,
      snapshotVersion: this.view?.version ?? -1,
    };
  }

  /** The reply to `msg`, or null for no reply. Never throws. */
  respond(msg: Buffer, peer: PeerAddress, transport: Transport): Buffer | null {
    try {
      return this.answer(msg, peer, transport);
    } catch (err) {
      this.report(err, 'respond', transport);
      try {
        const q = this.query;
        if (msg.length < HEADER_LENGTH || q.status === DecodeStatus.DROP) return null;
        // The decoder's bounds were checked: its question and OPT fields are safe to reuse.
        return this.reply(msg, q, SERVFAIL, transport);
      } catch {
        return null;
      }
    }
  }

  private answer(msg: Buffer, peer: PeerAddress, transport: Transport): Buffer | null {
    const q = decodeQuery(msg, this.query);
    switch (q.status) {
      case DecodeStatus.QUERY:
        break;
      case DecodeStatus.DROP:
        if (q.problem === 'response') this.responsesDropped++;
        else this.malformedDropped++;
        return null;
      case DecodeStatus.FORMERR:
        return this.reply(msg, q, FORMERR, transport);
      case DecodeStatus.NOTIMP:
        return this.reply(msg, q, NOTIMP, transport);
      default:
        return this.reply(msg, q, BADVERS, transport);
    }
    const qtype = q.qtype;
    (transport === 'udp' ? this.udpTypes : this.tcpTypes)[qtype <= 257 ? qtype : 0]++;
    if (q.qclass !== CLASS_IN) return this.reply(msg, q, REFUSED, transport);
    if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) return this.reply(msg, q, REFUSED, transport);
    if (qtype === 0 || qtype === TYPE.OPT || qtype === TYPE.TKEY || qtype === TYPE.TSIG) {
      return this.reply(msg, q, FORMERR, transport);
    }
    const view = this.view;
    if (view === null) return this.reply(msg, q, SERVFAIL, transport);

    const node = view.find(q.qname);
    let answer: PreparedAnswer;
    if (node !== undefined) {
      if (node.cut !== null) answer = node.other;
      else if (qtype === TYPE.ANY) answer = node.any;
      else if ((qtype === TYPE.A || qtype === TYPE.AAAA) && node.dynamic !== null) {
        answer = this.dynamicAnswer(view, node, q, peer, transport);
      } else answer = node.answers.get(qtype) ?? node.other;
    } else {
      answer = this.absentName(view, q);
    }
    return this.reply(msg, q, answer, transport);
  }

  /** A name with no node: referral, wildcard, NXDOMAIN, or REFUSED outside every zone. */
  private absentName(view: ZoneView, q: DecodedQuery): PreparedAnswer {
    const encloser = view.closestEncloser(q.qname);
    if (encloser === undefined) return REFUSED;
    const length = q.qnameWireLength;
    if (encloser.cut !== null) return encloser.cut.referral(length);
    const wildcard = encloser.wildcard;
    if (wildcard !== null && wildcard.wild !== null) {
      if (wildcard.cut !== null) return wildcard.cut.referral(length);
      const wild = wildcard.wild;
      if (q.qtype === TYPE.ANY) return wild.any;
      return wild.answers.get(q.qtype) ?? wild.other ?? encloser.zone.negative(RCODE.NOERROR, length);
    }
    return encloser.zone.negative(RCODE.NXDOMAIN, length);
  }

  /**
   * A/AAAA at a service name: the per-client cache, else locate + decide. A hit allocates
   * nothing: IPv4 ECS addresses are looked up by their 32 bits, socket peers by the address
   * string the socket already gave; the address text is only made on a miss.
   */
  private dynamicAnswer(view: ZoneView, node: NameNode, q: DecodedQuery, peer: PeerAddress, transport: Transport): PreparedAnswer {
    const isA = q.qtype === TYPE.A;
    const fromEcs = q.hasEcs && q.ecsSourcePrefix > 0;
    if (fromEcs && q.ecsFamily === 1) {
      const b = q.ecsAddress;
      const key = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
      const cache4 = isA ? node.cacheEcs4A : node.cacheEcs4AAAA;
      const hit4 = cache4.get(key);
      if (hit4 !== undefined) {
        this.cacheHits++;
        return hit4;
      }
      this.cacheMisses++;
      const answer = this.decideFor(view, node, isA, ipv4Text(b), 4, true, transport);
      if (answer === null) return SERVFAIL; // not cached: the next query tries again
      this.remember(view, cache4, key, answer);
      return answer;
    }
    let ip: string;
    let family: 4 | 6;
    if (fromEcs) {
      family = 6;
      ip = ipv6Text(q.ecsAddress);
    } else {
      ip = peer.address;
      family = peer.family;
      // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d: locate them as IPv4.
      if (family === 6 && ip.startsWith('::ffff:') && ip.indexOf('.') > 0) {
        ip = ip.slice(7);
        family = 4;
      }
    }
    const cache = fromEcs ? (isA ? node.cacheEcsA : node.cacheEcsAAAA) : isA ? node.cacheA : node.cacheAAAA;
    const hit = cache.get(ip);
    if (hit !== undefined) {
      this.cacheHits++;
      return hit;
    }
    this.cacheMisses++;
    const answer = this.decideFor(view, node, isA, ip, family, fromEcs, transport);
    if (answer === null) return SERVFAIL; // not cached: the next query tries again
    this.remember(view, cache, ip, answer);
    return answer;
  }

  /** Locate + decide + encode for one client; null when the locator or the engine throws (reported). */
  private decideFor(
    view: ZoneView,
    node: NameNode,
    isA: boolean,
    ip: string,
    family: 4 | 6,
    fromEcs: boolean,
    transport: Transport,
  ): PreparedAnswer | null {
    try {
      const location = this.deps.locator.locate(ip);
      const decision = this.deps.decide(view.snapshot, {
        fqdn: node.dynamic!.service.snap.fqdn,
        qtype: isA ? 'A' : 'AAAA',
        client: { ip, family, location, source: fromEcs ? 'ecs' : 'socket' },
      });
      return this.fromDecision(node, decision, isA ? 4 : 6, family);
    } catch (err) {
      this.report(err, 'decide', transport);
      return null;
    }
  }

  private remember<K>(view: ZoneView, cache: Map<K, PreparedAnswer>, key: K, answer: PreparedAnswer): void {
    if (this.cached >= this.cacheSize) {
      view.clearCaches();
      this.cached = 0;
    }
    cache.set(key, answer);
    this.cached++;
  }

  private fromDecision(node: NameNode, decision: Decision | null, addressFamily: 4 | 6, clientFamily: 4 | 6): PreparedAnswer {
    const dynamic = node.dynamic!;
    const nodata = node.zone.negative(RCODE.NOERROR, node.wireLength);
    if (decision === null) return nodata;
    const scope = Math.max(0, Math.min(decision.ecsScope | 0, clientFamily === 4 ? 32 : 128));
    if (decision.outcome === 'refused') {
      let text = Buffer.from(decision.detail ?? '', 'utf8');
      if (text.length > MAX_EDE_TEXT) text = Buffer.from(truncateUtf8(text, MAX_EDE_TEXT));
      const code = decision.reason.startsWith('residency-') ? EDE_CODE.PROHIBITED : EDE_CODE.OTHER;
      return prepared(RCODE.SERVFAIL, false, { ecsScope: scope, edeCode: code, edeText: ownBuffer([text]) });
    }
    const addresses = decision.addresses;
    if (addresses.length === 0) {
      if (dynamic.prefix !== null) return prepared(RCODE.NOERROR, true, { ancount: dynamic.prefixCount, body: dynamic.prefix, ecsScope: scope });
      return withScope(nodata, scope);
    }
    const ttl = Math.max(0, Math.min(Math.floor(decision.ttl), 0x7fffffff));
    const parts: Buffer[] = dynamic.prefix !== null ? [dynamic.prefix] : [];
    for (const address of addresses) {
      let rr = dynamic.service.addressRecord(addressFamily, address);
      if (dynamic.ownerPointer !== HEADER_LENGTH || ttl !== dynamic.service.ttl) {
        rr = Buffer.from(rr);
        rr.writeUInt16BE(0xc000 | dynamic.ownerPointer, 0);
        rr.writeUInt32BE(ttl, 6);
      }
      parts.push(rr);
    }
    return prepared(RCODE.NOERROR, true, { ancount: dynamic.prefixCount + addresses.length, body: ownBuffer(parts), ecsScope: scope });
  }

  /** Header + the question's original bytes + the prepared body + the OPT. */
  private reply(msg: Buffer, q: DecodedQuery, a: PreparedAnswer, transport: Transport): Buffer {
    const questionLength = q.questionEnd - HEADER_LENGTH;
    const hasOpt = q.hasOpt;
    const ecsLength = hasOpt && q.hasEcs ? 8 + q.ecsAddressLength : 0;
    const edeText = a.edeText;
    const edeLength = hasOpt && a.edeCode >= 0 ? 6 + (edeText === null ? 0 : edeText.length) : 0;
    const optLength = hasOpt ? 11 + ecsLength + edeLength : 0;
    const limit =
      transport === 'tcp' ? TCP_MESSAGE_LIMIT : hasOpt ? (q.udpSize < OUR_UDP_SIZE ? q.udpSize : OUR_UDP_SIZE) : CLASSIC_UDP_LIMIT;
    const head = HEADER_LENGTH + questionLength;
    let bodyLength = a.body.length;
    let additional = a.additional;
    let size = head + bodyLength + (additional === null ? 0 : additional.length) + optLength;
    if (size > limit && additional !== null) {
      additional = null; // RFC 2181 §9: missing additional data does not set TC
      size = head + bodyLength + optLength;
    }
    let truncated = false;
    if (size > limit) {
      truncated = true;
      bodyLength = 0;
      size = head + optLength;
    }

    const out = Buffer.allocUnsafe(size);
    out[0] = msg[0];
    out[1] = msg[1];
    const rcode = a.rcode;
    const flags =
      FLAG.QR | (q.opcode << 11) | (a.aa ? FLAG.AA : 0) | (truncated ? FLAG.TC : 0) | (q.flags & FLAG.RD) | (rcode & 0x0f);
    out[2] = flags >>> 8;
    out[3] = flags & 0xff;
    const ancount = truncated ? 0 : a.ancount;
    const nscount = truncated ? 0 : a.nscount;
    const arcount = (additional === null ? 0 : a.arcount) + (hasOpt ? 1 : 0);
    out[4] = 0;
    out[5] = questionLength > 0 ? 1 : 0;
    out[6] = ancount >>> 8;
    out[7] = ancount & 0xff;
    out[8] = nscount >>> 8;
    out[9] = nscount & 0xff;
    out[10] = arcount >>> 8;
    out[11] = arcount & 0xff;
    // Byte loops and TypedArray#set: Buffer#copy of a range makes a view object per call.
    for (let i = HEADER_LENGTH, end = q.questionEnd; i < end; i++) out[i] = msg[i];
    let o = head;
    if (bodyLength > 0) {
      out.set(a.body, o);
      o += bodyLength;
    }
    if (additional !== null) {
      out.set(additional, o);
      o += additional.length;
    }
    if (hasOpt) {
      out[o] = 0; // owner: root
      out[o + 1] = 0;
      out[o + 2] = TYPE.OPT;
      out[o + 3] = OUR_UDP_SIZE >>> 8;
      out[o + 4] = OUR_UDP_SIZE & 0xff;
      out[o + 5] = rcode >>> 4; // EXTENDED-RCODE
      out[o + 6] = 0; // VERSION
      out[o + 7] = 0; // DO and Z clear
      out[o + 8] = 0;
      const rdlength = ecsLength + edeLength;
      out[o + 9] = rdlength >>> 8;
      out[o + 10] = rdlength & 0xff;
      o += 11;
      if (ecsLength > 0) {
        const addressLength = q.ecsAddressLength;
        const source = q.ecsSourcePrefix;
        const scope = source === 0 ? 0 : a.ecsScope; // RFC 7871 §7.2.1: SOURCE 0 answers SCOPE 0
        out[o] = 0;
        out[o + 1] = EDNS_OPTION.CLIENT_SUBNET;
        out[o + 2] = 0;
        out[o + 3] = 4 + addressLength;
        out[o + 4] = 0;
        out[o + 5] = q.ecsFamily;
        out[o + 6] = source;
        out[o + 7] = scope;
        const address = q.ecsAddress;
        for (let i = 0; i < addressLength; i++) out[o + 8 + i] = address[i];
        o += 8 + addressLength;
      }
      if (edeLength > 0) {
        const textLength = edeLength - 6;
        out[o] = 0;
        out[o + 1] = EDNS_OPTION.EXTENDED_ERROR;
        out[o + 2] = (textLength + 2) >>> 8;
        out[o + 3] = (textLength + 2) & 0xff;
        out[o + 4] = a.edeCode >>> 8;
        out[o + 5] = a.edeCode & 0xff;
        if (edeText !== null) out.set(edeText, o + 6);
      }
    }
    (transport === 'udp' ? this.udpReplies : this.tcpReplies)[rcode <= 16 ? rcode : 16]++;
    return out;
  }

  private report(err: unknown, stage: ResponderErrorContext['stage'], transport: Transport): void {
    this.handlerErrors++;
    const onError = this.deps.onError;
    if (onError === undefined) return;
    try {
      onError(err, { stage, qname: this.query.qname, qtype: this.query.qtype, transport });
    } catch {
      // A failing error reporter must not turn one SERVFAIL into no reply.
    }
  }
}

function byRcodeName(counts: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, name] of Object.entries(RCODE_NAMES)) out[name] = counts[Number(code)];
  return out;
}

function byTypeName(counts: Float64Array): Record<string, number> {
  const out: Record<string, number> = { other: 0 };
  for (const name of Object.values(QTYPE_METRIC_NAMES)) out[name] = 0;
  for (let t = 0; t < counts.length; t++) {
    const n = counts[t];
    if (n === 0) continue;
    const name = QTYPE_METRIC_NAMES[t] ?? 'other';
    out[name] += n;
  }
  return out;
}

/** The longest prefix of `b` of at most `max` octets that does not split a UTF-8 sequence. */
function truncateUtf8(b: Buffer, max: number): Buffer {
  let end = Math.min(max, b.length);
  while (end > 0 && end < b.length && (b[end] & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

/**
 * Concatenates into memory of its own. Cached answers live long; a small Buffer.concat/from result
 * is a slice of Node's shared 8 KiB pool and would keep the whole block (and every short-lived
 * reply sliced from it) alive: up to 8 KiB retained per cached entry instead of ~200 bytes.
 */
function ownBuffer(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const p of parts) at += p.copy(out, at);
  return out;
}
