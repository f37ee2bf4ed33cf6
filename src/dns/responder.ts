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
 * version 0, DO copied from the query (RFC 3225 §3), ECS echoed with the decision's scope. A reply that does not fit the UDP
 * limit (min(max(client, 512), 1232) with EDNS, 512 without) drops its glue first, then is sent
 * as TC=1 with the question (and OPT) only. Any exception while answering is reported through
 * `onError` and answered SERVFAIL, for that query only. With an identity (identity.ts), a query
 * carrying NSID gets the NSID option back, and CHAOS TXT `id.server.` / `hostname.bind.` /
 * `version.bind.` are answered before any zone look-up (others in class CH stay REFUSED).
 * DNSSEC: for DO=1 in a signed zone the prepared answer's signed twin is sent; negative answers
 * become RFC 9824 compact denials, signed per name on first use and cached by the view.
 *
 * Hot path: decode into a reused DecodedQuery, one map look-up of the lower-case name, then either
 * a pre-encoded reply by QTYPE or (service names) one look-up in that name's per-client cache of
 * engine replies; then one Buffer.allocUnsafe and copies (ID, flags, the question's original
 * bytes, the prepared body, the OPT); on the batched UDP path (respondInto) the same copies go
 * straight into the addon's output area, with no Buffer per reply. The cache lives in the view, so a new snapshot empties it.
 */
import type { LocationClassTable } from '../routing/tables/location-classes';
import { RegionRanking, geometryKeyOf } from '../routing/tables/region-ranking';
import { TableRouter } from '../routing/tables/table-router';
import type { ClientNetwork } from '../routing/latency';
import { refusalDetail } from '../routing/select';
import { clientHashKey } from '../routing/rendezvous';
import { REASONS, type Reason, type RoutingSnapshot } from '../routing/types';
import { ImmutableMap } from '../routing/immutable-map';
import type { Steps } from '../routing/steps';
import { prepared, type PreparedAnswer } from './answer';
import { IdentityAnswers, type DnsIdentity } from './identity';
import { ipv4Text, ipv6Text } from './wire/address-text';
import {
  CLASS_CH,
  CLASS_IN,
  CLASSIC_UDP_LIMIT,
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
import { ZoneView, type NameNode, type ServiceData, type ZoneData } from './zone-view';
import { SignatureCounter, type DnssecSettings } from './dnssec-signer';

/**
 * Where a client is, as location classes (geo/geo-classifier.ts): each call sets prefixLength
 * (and, for text, family) and returns the class id in `classes`.
 */
export interface Classifier {
  readonly classes: LocationClassTable;
  readonly prefixLength: number;
  readonly family: 4 | 6;
  classifyV4(a: number, b: number, c: number, d: number): number;
  classifyV6(bytes: ArrayLike<number>, length: number): number;
  classifyText(ip: string): number;
}

export type Transport = 'udp' | 'tcp';

export interface PeerAddress {
  address: string;
  family: 4 | 6;
}

export interface ResponderErrorContext {
  /** 'decide': locating the client or routing it threw; 'respond': anything else while answering. */
  readonly stage: 'decide' | 'respond';
  readonly qname: string;
  readonly qtype: number;
  readonly transport: Transport;
}

export interface DnsResponderDeps {
  /**
   * The classifier of the geo database in use. Called when a snapshot is set and when asked for
   * again: a different object (a reloaded database) gets a new region ranking.
   */
  readonly classifier: () => Classifier;
  readonly onError?: (err: unknown, ctx: ResponderErrorContext) => void;
  /** NSID and CHAOS identity (identity.ts); left out: NSID off, every CHAOS name REFUSED. */
  readonly identity?: DnsIdentity;
  /** DNSSEC signing settings (dnssec-signer.ts); left out: signed zones are served unsigned (a warning). */
  readonly dnssec?: DnssecSettings;
}

/** Answers counted per service name and region (or refusal), read at scrape time. */
export interface AnswerCount {
  readonly service: string;
  /** The first chosen region, '' for a refusal or NODATA. */
  readonly region: string;
  readonly reason: Reason;
  readonly count: number;
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
  /** Service answers routed through the tables (every A/AAAA query at a service name). */
  readonly routed: number;
  /** Location classes known, and classes whose region ranking is computed. */
  readonly locationClasses: number;
  readonly rankedClasses: number;
  /** Prepared answers held for (name, family, chosen regions), all services. */
  readonly preparedAnswers: number;
  /** Version of the snapshot answered from, or -1 before the first. */
  readonly snapshotVersion: number;
  /** How many snapshots were taken without rebuilding the DNS view (health, drain, unchanged data). */
  readonly viewReuses: number;
  /** How many DNS views were built (at once, or ahead in slices: prepare). */
  readonly viewBuilds: number;
  /**
   * DNSSEC signatures (RRSIGs) made: ahead of queries by the pre-signer, or on the query path
   * (answers asked before the pre-signer reached them, compact denials, wildcard answers).
   */
  readonly dnssecSignatures: { readonly background: number; readonly query: number };
}

/** What reply() returns when it wrote into respondInto()'s area (never sent itself). */
const WRITTEN = Buffer.alloc(0);
const FORMERR = prepared(RCODE.FORMERR, false);
const NOTIMP = prepared(RCODE.NOTIMP, false);
const REFUSED = prepared(RCODE.REFUSED, false);
const SERVFAIL = prepared(RCODE.SERVFAIL, false);
const BADVERS = prepared(RCODE.BADVERS, false);

export class DnsResponder {
  private view: ZoneView | null = null;
  /** A view built ahead of its snapshot's setSnapshot (prepare), until then. */
  private ahead: ZoneView | null = null;
  private snapshot: RoutingSnapshot | null = null;
  private classifier: Classifier | null = null;
  private ranking: RegionRanking | null = null;
  private readonly router = new TableRouter();
  private readonly query = new DecodedQuery();
  private routed = 0;
  private viewReuses = 0;
  private viewBuilds = 0;
  /** Answers per (service node, region position or refusal, reason), read by answerCounts(). */
  private readonly counts = new Map<ServiceData, Float64Array>();
  private readonly udpReplies = new Float64Array(17);
  private readonly tcpReplies = new Float64Array(17);
  /** Indexed by QTYPE up to 257 (CAA); index 0 also holds every larger type. */
  private readonly udpTypes = new Float64Array(258);
  private readonly tcpTypes = new Float64Array(258);
  private malformedDropped = 0;
  private responsesDropped = 0;
  private handlerErrors = 0;
  /** DNSSEC signatures made by this process, by path (every view counts into it). */
  private readonly signatures = new SignatureCounter();
  /**
   * Called when the view has signing to do ahead of queries (a new view, a re-signing, answer
   * variants made since): the owner starts its PreSigner here. Unset: nothing is signed ahead,
   * and a re-signing swaps signers at once (answers signed again on first use).
   */
  onSigningWork: (() => void) | null = null;
  private readonly signingWork = (): boolean => {
    const start = this.onSigningWork;
    if (start === null) return false;
    start();
    return true;
  };
  private readonly identity: IdentityAnswers;
  /** The whole NSID option (code, length, payload) for replies to queries that carry it; null = off. */
  private readonly nsidOption: Buffer | null;
  private readonly nsidLength: number;

  constructor(private readonly deps: DnsResponderDeps) {
    this.identity = new IdentityAnswers(deps.identity ?? { id: null, version: null });
    const nsid = this.identity.nsid;
    this.nsidOption = nsid === null ? null : Buffer.concat([Buffer.from([0, EDNS_OPTION.NSID, nsid.length >>> 8, nsid.length & 0xff]), nsid]);
    this.nsidLength = this.nsidOption?.length ?? 0;
  }

  /**
   * Takes `snapshot` into service. The DNS view (names, pre-encoded replies) is rebuilt only when
   * the snapshot's zones or services are not the ones the view was built from; a snapshot that
   * changed health, drain or nothing the view uses keeps it (its state array is read per query).
   * The region ranking is rebuilt only when the regions' names or coordinates, or the geo
   * database, changed. Throws if the view cannot be built; the previous one then stays in
   * service. Data problems that only skip a record are listed in `warnings`.
   */
  setSnapshot(snapshot: RoutingSnapshot): void {
    if (this.snapshot === snapshot) return;
    const current = this.view;
    const ahead = this.ahead;
    this.ahead = null;
    let view: ZoneView | null = null;
    if (ahead !== null && sameRegionData(ahead.snapshot, snapshot) && sameEntries(ahead.snapshot.zones, snapshot.zones) && sameEntries(ahead.snapshot.services, snapshot.services)) {
      // Built ahead in slices (prepare) from this snapshot or one that differs in health alone.
      view = ahead.withSnapshot(snapshot);
      view.serveWith(this.signingWork);
    } else if (current !== null && sameRegionData(current.snapshot, snapshot)) {
      // Same regions: health or drain (nothing to rebuild), or serials and some services (updated in place).
      view =
        sameEntries(current.snapshot.zones, snapshot.zones) && sameEntries(current.snapshot.services, snapshot.services)
          ? current.withSnapshot(snapshot)
          : current.update(snapshot);
      if (view !== null) this.viewReuses++;
    }
    if (view === null || view === ahead) this.viewBuilds++;
    if (view === null) view = ZoneView.build(snapshot, this.deps.dnssec ?? null, this.signatures, this.signingWork);
    this.view = view;
    this.snapshot = snapshot;
    if (this.ranking !== null && this.ranking.geometryKey !== geometryKeyOf(snapshot)) this.ranking = null;
  }

  /**
   * The steps (routing/steps.ts) that build, ahead of setSnapshot, the view `snapshot` needs when
   * the view in service cannot serve it as it is or updated in place (new zones or regions, more
   * than ZoneView.update's share of services changed); null when it can. The caller runs them in
   * slices (common/slices.ts) while the view in service keeps answering, then calls setSnapshot,
   * which takes the view built. A later prepare replaces it.
   */
  prepare(snapshot: RoutingSnapshot): Steps<void> | null {
    this.ahead = null;
    const current = this.view;
    if (current !== null && sameRegionData(current.snapshot, snapshot)) {
      if (sameEntries(current.snapshot.zones, snapshot.zones) && sameEntries(current.snapshot.services, snapshot.services)) return null;
      if (current.fitsUpdate(snapshot)) return null;
    }
    return this.prepareSteps(snapshot);
  }

  private *prepareSteps(snapshot: RoutingSnapshot): Steps<void> {
    // No pre-signer hook until it serves (serveWith): the one running works on the view in service.
    this.ahead = yield* ZoneView.buildSteps(snapshot, this.deps.dnssec ?? null, this.signatures, null);
  }

  /**
   * Background upkeep (call every minute or so, off the hot path): a view whose signatures are
   * halfway through their validity window gets new signers (ZoneView.resign), which the
   * pre-signer signs every answer with before they serve (without a pre-signer: at once, answers
   * signed again as DO=1 queries need them). Returns true when it did.
   */
  maintain(now: number = this.deps.dnssec?.now?.() ?? Date.now()): boolean {
    const view = this.view;
    if (view === null) return false;
    if (view.resigning) view.swapIfOverdue(now);
    if (now < view.resignAt) return false;
    view.resign();
    return true;
  }

  /**
   * Signs up to `budget` answers ahead of queries (the PreSigner calls it in slices, off the hot
   * path; see ZoneView.presign). Returns true when nothing is left to sign.
   */
  presign(budget: number): boolean {
    const view = this.view;
    if (view === null) return true;
    const counter = this.signatures;
    counter.inBackground = true;
    try {
      return view.presign(budget);
    } finally {
      counter.inBackground = false;
    }
  }

  /**
   * The classifier and region ranking for the next query: the classifier the deps give now (a
   * reloaded database is a new one) and a ranking for its classes and the snapshot's regions,
   * made anew only when either changed.
   */
  private tables(): RegionRanking {
    const classifier = this.deps.classifier();
    let ranking = this.ranking;
    if (ranking === null || ranking.classes !== classifier.classes) {
      ranking = new RegionRanking(this.snapshot!, classifier.classes);
      this.ranking = ranking;
    }
    this.classifier = classifier;
    return ranking;
  }

  /**
   * Computes up to `budget` rows of the region ranking ahead of queries (call off the hot path,
   * in small steps, after a snapshot or a database change). Returns true when every known class
   * has its row.
   */
  fillRanking(budget: number): boolean {
    if (this.snapshot === null) return true;
    return this.tables().fill(budget);
  }

  /** Answers per service, region and reason since the last call (for /metrics); the counts restart at 0. */
  takeAnswerCounts(): AnswerCount[] {
    const out: AnswerCount[] = [];
    for (const [service, counts] of this.counts) {
      const regions = service.plan.regions;
      for (let slot = 0; slot < counts.length; slot++) {
        const count = counts[slot];
        if (count === 0) continue;
        const position = Math.floor(slot / REASONS.length) - 1;
        out.push({ service: service.snap.fqdn, region: position >= 0 ? (regions[position]?.name ?? '') : '', reason: REASONS[slot % REASONS.length], count });
      }
    }
    this.counts.clear();
    return out;
  }

  /** Problems found in the current snapshot's DNS data (records skipped). */
  get warnings(): readonly string[] {
    return this.view?.warnings ?? [];
  }

  /**
   * DNSSEC: asked before a compact denial not made yet is signed for a UDP client; true = the
   * client's error responses are over the rate limit, so the reply would be dropped or slipped
   * anyway: SERVFAIL (an error, limited the same way) goes to the limiter instead, unsigned.
   * Set by the UDP listener's owner to `ResponseRateLimiter.errorLimited`.
   */
  negativeGate: ((address: string, family: 4 | 6) => boolean) | null = null;

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
      routed: this.routed,
      locationClasses: this.classifier?.classes.size ?? 0,
      // A counter kept by the ranking (no walk of the table: /metrics and the dashboard ask every 2 s).
      rankedClasses: this.ranking?.computedRows ?? 0,
      preparedAnswers: this.view?.preparedDynamicAnswers() ?? 0,
      snapshotVersion: this.snapshot?.version ?? -1,
      viewReuses: this.viewReuses,
      viewBuilds: this.viewBuilds,
      dnssecSignatures: { background: this.signatures.background, query: this.signatures.query },
    };
  }

  /**
   * The reply to `msg` written into `into` at `at` (at most `room` octets); returns its length,
   * or -1 for no reply. A reply longer than `room` is not written: its length is returned, so
   * the caller can tell. The same bytes as respond(), without a Buffer per reply: the batched
   * UDP listener writes every reply straight into the addon's output area.
   */
  respondInto(msg: Buffer, peer: PeerAddress, transport: Transport, into: Buffer, at: number, room: number): number {
    this.into = into;
    this.intoAt = at;
    this.intoEnd = at + room;
    let reply: Buffer | null;
    try {
      reply = this.respond(msg, peer, transport);
    } finally {
      this.into = null;
    }
    if (reply === null) return -1;
    if (reply === WRITTEN) return this.intoLength;
    if (reply.length <= room) into.set(reply, at);
    return reply.length;
  }

  /** Where reply() writes while respondInto() runs (null: a Buffer per reply). */
  private into: Buffer | null = null;
  private intoAt = 0;
  private intoEnd = 0;
  private intoLength = 0;

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
    this.scope = -1;
    this.wildNode = null;
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
    if (q.qclass !== CLASS_IN) {
      // RFC 4892 identity names, before any zone: a map look-up, only for QCLASS CH.
      const chaos = q.qclass === CLASS_CH ? this.identity.chaosAnswer(q.qname, qtype) : null;
      return this.reply(msg, q, chaos ?? REFUSED, transport);
    }
    if (qtype === TYPE.AXFR || qtype === TYPE.IXFR) return this.reply(msg, q, REFUSED, transport);
    if (qtype === 0 || qtype === TYPE.OPT || qtype === TYPE.TKEY || qtype === TYPE.TSIG) {
      return this.reply(msg, q, FORMERR, transport);
    }
    const view = this.view;
    if (view === null) return this.reply(msg, q, SERVFAIL, transport);

    const node = view.find(q.qname);
    let answer: PreparedAnswer;
    if (node !== undefined) {
      if (node.cut !== null) answer = node.cut === node && qtype === TYPE.DS ? node.answers.get(TYPE.DS) ?? node.other : node.other;
      else if (qtype === TYPE.ANY) answer = node.any;
      else if ((qtype === TYPE.A || qtype === TYPE.AAAA) && node.dynamic !== null) {
        answer = this.dynamicAnswer(view, node, q, peer, transport);
      } else answer = node.answers.get(qtype) ?? node.other;
    } else {
      answer = this.absentName(view, q);
    }
    if (q.dnssecOk && view.signed) answer = this.secured(view, answer, node, msg, q, peer, transport);
    return this.reply(msg, q, answer, transport);
  }

  /**
   * The DO=1 form of an answer from a view with signed zones: the prepared signed variant of a
   * positive answer; for NXDOMAIN / NODATA in a signed zone, the compact denial (signed per name
   * on first use, then cached by the view). Anything else (referrals, refusals, unsigned zones)
   * as it is.
   */
  private secured(view: ZoneView, answer: PreparedAnswer, node: NameNode | undefined, msg: Buffer, q: DecodedQuery, peer: PeerAddress, transport: Transport): PreparedAnswer {
    const twin = answer.signed;
    if (twin !== null) {
      const signed = twin.get();
      if (signed !== null) return signed;
    }
    const wild = this.wildNode;
    if (wild !== null && answer.ancount > 0) return view.wildcardSigned(wild, answer, msg, q.qnameWireLength, q.qname) ?? SERVFAIL;
    if (!answer.aa || answer.ancount !== 0 || (answer.rcode !== RCODE.NOERROR && answer.rcode !== RCODE.NXDOMAIN)) return answer;
    let zone: ZoneData | undefined;
    if (node !== undefined) zone = node.zone;
    else zone = view.zoneFor(q.qname);
    if (zone === undefined || zone.signer === null) return answer;
    const gate = this.negativeGate;
    const limited = transport === 'udp' && gate !== null && gate(peer.address, peer.family);
    const denial = view.denial(zone, node, msg, q.qnameWireLength, q.qtype, q.qname, limited);
    return denial === undefined ? SERVFAIL : (denial ?? answer);
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
      this.wildNode = wildcard;
      if (q.qtype === TYPE.ANY) return wild.any;
      return wild.answers.get(q.qtype) ?? wild.other ?? encloser.zone.negative(RCODE.NOERROR, length);
    }
    return encloser.zone.negative(RCODE.NXDOMAIN, length);
  }

  /**
   * A/AAAA at a service name through the routing tables: the client's location class (ECS octets
   * or the peer), the service's order for that class, the shared selection over the state array,
   * then the reply prepared for that (name, family, chosen regions): nothing per client is kept.
   * The ECS scope goes into `this.scope` for reply().
   */
  private dynamicAnswer(view: ZoneView, node: NameNode, q: DecodedQuery, peer: PeerAddress, transport: Transport): PreparedAnswer {
    const dynamic = node.dynamic!;
    const service = dynamic.service;
    const isA = q.qtype === TYPE.A;
    let classId: number;
    let clientFamily: 4 | 6;
    try {
      const ranking = this.tables();
      const classifier = this.classifier!;
      const network = this.network;
      if (q.hasEcs && q.ecsSourcePrefix > 0) {
        const b = q.ecsAddress;
        if (q.ecsFamily === 1) {
          classId = classifier.classifyV4(b[0], b[1], b[2], b[3]);
          clientFamily = 4;
          network.family = 4;
          network.n = b[0] * 65536 + b[1] * 256 + b[2];
        } else {
          classId = classifier.classifyV6(b, q.ecsAddressLength);
          clientFamily = 6;
          // An IPv4-mapped subnet is keyed as IPv4 by clientHashKey: let the table parse that text.
          network.family = b[10] === 0xff && b[11] === 0xff && b[0] === 0 && b[1] === 0 && b[8] === 0 && b[9] === 0 ? 0 : 6;
          network.n = b[0] * 2 ** 40 + b[1] * 2 ** 32 + b[2] * 2 ** 24 + b[3] * 65536 + b[4] * 256 + b[5];
        }
      } else {
        classId = classifier.classifyText(peer.address);
        clientFamily = classifier.family;
        network.family = 0; // the latency table parses clientKey() (the peer's text) itself
      }
      this.clientQuery = q;
      this.clientPeer = peer;
      this.clientFamily = clientFamily;
      const router = this.router;
      const selection = router.route(
        this.snapshot!,
        service.plan,
        classifier.classes,
        ranking,
        classId,
        classifier.prefixLength,
        clientFamily,
        isA ? 'ipv4' : 'ipv6',
        false,
        this.clientKey,
        network,
      );
      this.routed++;
      this.scope = router.scope;
      this.count(service, selection.count > 0 ? selection.chosen[0] : -1, router.reason());
      if (selection.refusal !== null) {
        return view.refusal(node, selection.refusal, this.snapshot!.state?.version ?? 0, router.input.residencyApplies, router.input.primaryOnly, () =>
          refusalDetail(selection.refusal!, router.input, selection),
        );
      }
      return view.routedAnswer(node, isA, selection.chosen, selection.count);
    } catch (err) {
      this.report(err, 'decide', transport);
      this.scope = -1;
      return SERVFAIL;
    }
  }

  /** The weighted policy's key (the client's /24 or /48), made only for weighted services. */
  private clientQuery: DecodedQuery | null = null;
  private clientPeer: PeerAddress | null = null;
  private clientFamily: 4 | 6 = 4;
  private readonly clientKey = (): string => {
    const q = this.clientQuery!;
    if (q.hasEcs && q.ecsSourcePrefix > 0) return clientHashKey(q.ecsFamily === 1 ? ipv4Text(q.ecsAddress) : ipv6Text(q.ecsAddress), q.ecsFamily === 1 ? 4 : 6);
    const ip = this.clientPeer!.address;
    return clientHashKey(ip.startsWith('::ffff:') && ip.indexOf('.') > 0 ? ip.slice(7) : ip, this.clientFamily);
  };

  /** The "*" node the current answer was synthesized from (RFC 4592), else null. */
  private wildNode: NameNode | null = null;
  /** The client's /24 or /48 as a number, for latency services (reused; family 0: unknown). */
  private readonly network: ClientNetwork = { family: 0, n: 0 };

  /** Scope for the next reply (-1: the prepared answer's own). */
  private scope = -1;

  private count(service: ServiceData, position: number, reason: Reason): void {
    let counts = this.counts.get(service);
    if (counts === undefined) {
      counts = new Float64Array((service.plan.regions.length + 1) * REASONS.length);
      this.counts.set(service, counts);
    }
    counts[(position + 1) * REASONS.length + REASON_INDEX[reason]]++;
  }

  /** Header + the question's original bytes + the prepared body + the OPT. */
  private reply(msg: Buffer, q: DecodedQuery, a: PreparedAnswer, transport: Transport): Buffer {
    const questionLength = q.questionEnd - HEADER_LENGTH;
    const hasOpt = q.hasOpt;
    const ecsLength = hasOpt && q.hasEcs ? 8 + q.ecsAddressLength : 0;
    const edeText = a.edeText;
    const edeLength = hasOpt && a.edeCode >= 0 ? 6 + (edeText === null ? 0 : edeText.length) : 0;
    const nsidLength = hasOpt && q.wantsNsid ? this.nsidLength : 0;
    const optLength = hasOpt ? 11 + ecsLength + edeLength + nsidLength : 0;
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

    // Into the caller's area (respondInto) when it has room, else a Buffer of its own.
    const target = this.into;
    const direct = target !== null && this.intoAt + size <= this.intoEnd;
    const out = direct ? target : Buffer.allocUnsafe(size);
    const b = direct ? this.intoAt : 0;
    out[b] = msg[0];
    out[b + 1] = msg[1];
    const rcode = a.rcode;
    const flags =
      FLAG.QR | (q.opcode << 11) | (a.aa ? FLAG.AA : 0) | (truncated ? FLAG.TC : 0) | (q.flags & FLAG.RD) | (rcode & 0x0f);
    out[b + 2] = flags >>> 8;
    out[b + 3] = flags & 0xff;
    const ancount = truncated ? 0 : a.ancount;
    const nscount = truncated ? 0 : a.nscount;
    const arcount = (additional === null ? 0 : a.arcount) + (hasOpt ? 1 : 0);
    out[b + 4] = 0;
    out[b + 5] = questionLength > 0 ? 1 : 0;
    out[b + 6] = ancount >>> 8;
    out[b + 7] = ancount & 0xff;
    out[b + 8] = nscount >>> 8;
    out[b + 9] = nscount & 0xff;
    out[b + 10] = arcount >>> 8;
    out[b + 11] = arcount & 0xff;
    // Byte loops and TypedArray#set: Buffer#copy of a range makes a view object per call.
    for (let i = HEADER_LENGTH, end = q.questionEnd; i < end; i++) out[b + i] = msg[i];
    let o = b + head;
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
      out[o + 7] = q.dnssecOk ? 0x80 : 0; // DO copied from the query (RFC 3225 §3), Z clear
      out[o + 8] = 0;
      const rdlength = ecsLength + edeLength + nsidLength;
      out[o + 9] = rdlength >>> 8;
      out[o + 10] = rdlength & 0xff;
      o += 11;
      if (ecsLength > 0) {
        const addressLength = q.ecsAddressLength;
        const source = q.ecsSourcePrefix;
        const own = this.scope;
        const scope = source === 0 ? 0 : own >= 0 ? own : a.ecsScope; // RFC 7871 §7.2.1: SOURCE 0 answers SCOPE 0
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
      if (nsidLength > 0) out.set(this.nsidOption!, o + edeLength);
    }
    (transport === 'udp' ? this.udpReplies : this.tcpReplies)[rcode <= 16 ? rcode : 16]++;
    this.scope = -1;
    if (!direct) return out;
    this.intoLength = size;
    return WRITTEN;
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

const REASON_INDEX = Object.fromEntries(REASONS.map((r, i) => [r, i])) as Record<Reason, number>;

/** Same keys with the same (identical) values: a snapshot whose tables the view already has. */
function sameEntries<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  const differing = a instanceof ImmutableMap ? a.differingKeys(b) : null;
  if (differing !== null) {
    for (const key of differing) if (a.get(key) !== b.get(key)) return false;
    return true;
  }
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

/** Every region's data the view and the plans use (all but health and drain) is the same. */
function sameRegionData(a: RoutingSnapshot, b: RoutingSnapshot): boolean {
  if (a.regions.size !== b.regions.size) return false;
  const ids = [...b.regions.keys()];
  let k = 0;
  for (const [name, x] of a.regions) {
    if (ids[k++] !== name) return false; // ids are positions: the order matters
    const y = b.regions.get(name)!;
    if (x === y) continue;
    if (
      x.countryCode !== y.countryCode ||
      x.latitude !== y.latitude ||
      x.longitude !== y.longitude ||
      x.baseUrl !== y.baseUrl ||
      x.weight !== y.weight ||
      x.ipv4.join() !== y.ipv4.join() ||
      x.ipv6.join() !== y.ipv6.join()
    ) {
      return false;
    }
  }
  return true;
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

