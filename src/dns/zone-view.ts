/**
 * The DNS view of one RoutingSnapshot, built once per snapshot (off the hot path) so that a query
 * costs a map look-up and a copy.
 *
 * Inputs: a RoutingSnapshot (zones with static records, regions, services).
 * Outputs: for every owner name (zone apexes, static record names, service names and the empty
 * non-terminals above them) a `NameNode` holding pre-encoded replies per QTYPE (answer, authority
 * and glue, with compression pointers into the question), the NODATA reply, the minimal ANY reply
 * (RFC 8482), and for service names the per-address A/AAAA RRs the responder concatenates after a
 * routing decision.
 *
 * Data rules (bad data is skipped and listed in `warnings`, never thrown):
 * - a record belongs to the longest served zone that contains its name (nested zones win);
 * - a CNAME excludes all other data at its name (RFC 2181 §10.1): other types are dropped; a CNAME
 *   at an apex or at a service name is dropped; CNAMEs are chased one step inside the zone
 *   (static RRsets, or a service's engine decision);
 * - a service name answers A/AAAA from the engine; static A/AAAA at that name are dropped; other
 *   static types there are served;
 * - an NS RRset below an apex is a delegation: every name at or below it gets a referral (AA=0,
 *   NS in authority, A/AAAA glue we know in additional);
 * - "*" as the leftmost label is a wildcard (RFC 4592), used when the closest encloser of a
 *   non-existent name is its parent;
 * - RRsets are de-duplicated (RFC 2181 §5) and take the lowest TTL of their records (§5.2);
 * - negative answers carry the SOA with TTL = min(SOA TTL, negativeTtl) (RFC 2308 §3).
 */
import { planFor, type ServicePlan } from '../routing/service-plan';
import { ImmutableMap } from '../routing/immutable-map';
import { runToEnd, type Steps } from '../routing/steps';
import type { Reason, RegionSnap, RoutingSnapshot, ServiceSnap, ZoneSnap } from '../routing/types';
import { SignedTwin, prepared, type PreparedAnswer, type TwinSigner } from './answer';
import { EDE_CODE, HEADER_LENGTH, RCODE, TYPE } from './wire/constants';
import {
  RecordWriter,
  checkEncodable,
  clampTtl,
  ipv4Bytes,
  ipv6Bytes,
  nameLabels,
  nameWireLength,
  parseMx,
  parseTarget,
  rdataKey,
  writeRdata,
  MODERN_TYPE_BY_CODE,
} from './wire/encoder';
import { modernAdditionalTarget } from '../common/modern-records';
import { canonicalName } from '../common/dnssec-keys';
import {
  TYPE_CDNSKEY,
  TYPE_CDS,
  TYPE_DNSKEY,
  TYPE_NSEC,
  TYPE_RRSIG,
  ZoneSigner,
  SignatureCounter,
  compactNsecRdata,
  lowerWireName,
  type DnssecSettings,
} from './dnssec-signer';

const TYPE_BY_NAME: Readonly<Record<string, number>> = {
  A: TYPE.A,
  AAAA: TYPE.AAAA,
  CNAME: TYPE.CNAME,
  TXT: TYPE.TXT,
  MX: TYPE.MX,
  NS: TYPE.NS,
  CAA: TYPE.CAA,
  SRV: TYPE.SRV,
  HTTPS: TYPE.HTTPS,
  SVCB: TYPE.SVCB,
  TLSA: TYPE.TLSA,
  PTR: TYPE.PTR,
  NAPTR: TYPE.NAPTR,
  DS: TYPE.DS,
};

/** Types whose targets' A/AAAA go into the additional section: NS, MX (RFC 1035), SRV (RFC 2782), SVCB/HTTPS (RFC 9460 §4.2). */
const GLUE_TYPES: ReadonlySet<number> = new Set([TYPE.NS, TYPE.MX, TYPE.SRV, TYPE.SVCB, TYPE.HTTPS]);

/** The RRset an ANY query is answered with, first present wins (RFC 8482 §4.1: one RRset). */
const ANY_PREFERENCE = [TYPE.SOA, TYPE.A, TYPE.AAAA, TYPE.MX, TYPE.TXT, TYPE.CAA, TYPE.NS, TYPE.HTTPS, TYPE.SVCB, TYPE.SRV, TYPE.PTR, TYPE.NAPTR, TYPE.TLSA];

/** Question name at offset 12, then QTYPE and QCLASS. */
const QUESTION_POINTER = HEADER_LENGTH;

interface RRset {
  readonly type: number;
  ttl: number;
  readonly values: string[];
  readonly keys: Set<string>;
}

export class ZoneData {
  apex!: NameNode;
  readonly wireLength: number;
  /** TTL of the SOA in negative answers (RFC 2308 §3). */
  readonly negativeSoaTtl: number;
  /** SOA MNAME (the first nameserver) and RNAME labels, with fallbacks when unusable. */
  readonly mname: string;
  readonly rname: readonly string[];
  readonly problems: string[] = [];
  /** The minimal ANY reply (synthesized HINFO) of names without data: the same bytes for all of them. */
  hinfoAny: PreparedAnswer | null = null;
  private readonly negatives = new Map<number, PreparedAnswer>();
  /** DNSSEC: the zone's signer (null = unsigned), and the RRSIG RDATA of its SOA per signer, made on first use. */
  signer: ZoneSigner | null = null;
  /** DNSSEC, while re-signing: the next signer, swapped in once the pre-signer has made every twin with it. */
  pending: ZoneSigner | null = null;
  private readonly soaSigs = new Map<ZoneSigner, Buffer[]>();

  constructor(
    readonly name: string,
    public snap: ZoneSnap,
  ) {
    this.wireLength = nameWireLength(name);
    this.negativeSoaTtl = Math.min(clampTtl(snap.ttl), clampTtl(snap.negativeTtl));
    let mname = name;
    try {
      if (snap.nameservers.length > 0) mname = parseTarget(snap.nameservers[0]);
    } catch (error) {
      this.problems.push(`SOA MNAME: ${(error as Error).message}; the apex is used`);
    }
    this.mname = mname;
    let rname = mailboxLabels(snap.hostmaster, name);
    if (rname.some((l) => l.length === 0 || l.length > 63) || rname.reduce((n, l) => n + 1 + l.length, 1) > 255) {
      this.problems.push(`SOA RNAME from "${snap.hostmaster}" is not encodable; hostmaster.${name} is used`);
      rname = ['hostmaster', ...nameLabels(name)];
    }
    this.rname = rname;
  }

  /**
   * The same zone with a new serial (every registry write bumps it): the negative replies, which
   * carry the SOA, are made again on next use. Only the serial may differ (see ZoneView.update).
   */
  takeSerial(snap: ZoneSnap): void {
    this.snap = snap;
    this.negatives.clear();
    this.soaSigs.clear();
  }

  /**
   * A new signer (new inception and expiration) waits as `pending` while the current one keeps
   * serving; `swapSigner` puts it in service once the pre-signer has made every twin with it.
   */
  resign(settings: DnssecSettings, counter: SignatureCounter | null): void {
    if (this.signer === null || !this.snap.dnssec) return;
    this.pending = new ZoneSigner(this.name, this.snap.dnssec, settings, counter);
  }

  /** The pending signer takes over (twins prepared with it are served from now on). */
  swapSigner(): void {
    const next = this.pending;
    if (next === null) return;
    this.signer = next;
    this.pending = null;
    for (const signer of [...this.soaSigs.keys()]) if (signer !== next) this.soaSigs.delete(signer);
  }

  /** RRSIG RDATA over the SOA (original TTL = the zone TTL, as in the apex SOA answer), by `signer`. */
  soaSignatures(signer: ZoneSigner): Buffer[] {
    let sigs = this.soaSigs.get(signer);
    if (sigs === undefined) {
      sigs = signer.sign(canonicalName(this.name), TYPE.SOA, clampTtl(this.snap.ttl), [soaRdata(this)]);
      this.soaSigs.set(signer, sigs);
    }
    return sigs;
  }

  /**
   * NXDOMAIN (rcode 3) or NODATA (rcode 0) with the SOA in authority, for a question name of
   * `qnameWireLength` octets in this zone. Built on first use per length, then reused.
   */
  negative(rcode: number, qnameWireLength: number): PreparedAnswer {
    const key = rcode * 256 + qnameWireLength;
    let answer = this.negatives.get(key);
    if (answer === undefined) {
      const w = new RecordWriter(HEADER_LENGTH + qnameWireLength + 4);
      w.knownName(this.name, HEADER_LENGTH + qnameWireLength - this.wireLength);
      writeSoa(w, this, this.negativeSoaTtl);
      answer = prepared(rcode, true, { nscount: 1, body: w.bytes() });
      this.negatives.set(key, answer);
    }
    return answer;
  }
}

/** A service's A/AAAA RRs per address, owner = the question name (0xC00C), TTL = service ttl. */
export class ServiceData {
  readonly ttl: number;
  private readonly rr4 = new Map<string, Buffer>();
  private readonly rr6 = new Map<string, Buffer>();

  constructor(
    readonly snap: ServiceSnap,
    /** The service's plan in the snapshot the view was built from (positions index `chosen`). */
    readonly plan: ServicePlan,
    regions: ReadonlyMap<string, RegionSnap>,
    warn: (message: string) => void,
    /** RRs already encoded by other services of the view, by TTL, type and address (shared, never changed). */
    private readonly shared: Map<string, Buffer> = new Map(),
  ) {
    this.ttl = clampTtl(snap.ttl);
    for (const regionName of snap.regions) {
      const region = regions.get(regionName);
      if (region === undefined) {
        warn(`service ${snap.fqdn}: unknown region ${regionName}`);
        continue;
      }
      for (const address of region.ipv4) this.add(this.rr4, TYPE.A, address, warn);
      for (const address of region.ipv6) this.add(this.rr6, TYPE.AAAA, address, warn);
    }
  }

  /** The RR for one address; an address the snapshot did not list is encoded on the spot. */
  addressRecord(family: 4 | 6, address: string): Buffer {
    const known = (family === 4 ? this.rr4 : this.rr6).get(address);
    if (known !== undefined) return known;
    return encodeAddressRecord(family === 4 ? TYPE.A : TYPE.AAAA, this.ttl, address);
  }

  private add(map: Map<string, Buffer>, type: number, address: string, warn: (m: string) => void): void {
    if (map.has(address)) return;
    const key = `${this.ttl}/${type}/${address}`;
    const known = this.shared.get(key);
    if (known !== undefined) {
      map.set(address, known);
      return;
    }
    try {
      const rr = encodeAddressRecord(type, this.ttl, address);
      this.shared.set(key, rr);
      map.set(address, rr);
    } catch (error) {
      warn(`service ${this.snap.fqdn}: ${(error as Error).message}`);
    }
  }
}

function encodeAddressRecord(type: number, ttl: number, address: string): Buffer {
  const rdata = type === TYPE.A ? ipv4Bytes(address) : ipv6Bytes(address);
  const b = Buffer.alloc(12 + rdata.length);
  b.writeUInt16BE(0xc000 | QUESTION_POINTER, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt16BE(1, 4);
  b.writeUInt32BE(ttl, 6);
  b.writeUInt16BE(rdata.length, 10);
  rdata.copy(b, 12);
  return b;
}

/** A/AAAA at a name answered by the routing engine. */
export interface DynamicAnswer {
  readonly service: ServiceData;
  /** Records before the addresses (the CNAME when this name is a CNAME to the service), or null. */
  readonly prefix: Buffer | null;
  readonly prefixCount: number;
  /** Message offset of the owner name of the address RRs (12 = the question name). */
  readonly ownerPointer: number;
  /** The owner name of the address RRs (the service name). */
  readonly ownerName: string;
  /** DNSSEC: writes `prefix` with its RRSIGs made by `signer`; null when unsigned. */
  readonly prefixSigned: ((signer: ZoneSigner) => RecordWriter) | null;
}

export class NameNode {
  readonly wireLength: number;
  /** Static RRsets (after the CNAME and service rules). */
  readonly rrsets = new Map<number, RRset>();
  /** Pre-encoded reply per QTYPE. */
  readonly answers = new Map<number, PreparedAnswer>();
  /** Reply for any QTYPE without an entry in `answers` (NODATA, or the CNAME). */
  other!: PreparedAnswer;
  /** `other` is the zone's NODATA reply (it carries the SOA: a new serial replaces it). */
  otherIsNegative = false;
  /** Minimal reply to QTYPE ANY. */
  any!: PreparedAnswer;
  /** A/AAAA decided by the engine, when this is (or is a CNAME to) a service name. */
  dynamic: DynamicAnswer | null = null;
  service: ServiceData | null = null;
  /** The delegation point at or above this name (topmost), when there is one. */
  cut: NameNode | null = null;
  /** The "*" child of this name (RFC 4592), if any. */
  wildcard: NameNode | null = null;
  /** For a "*" node: replies valid for any question name (owner = 0xC00C, rdata uncompressed). */
  wild: { answers: Map<number, PreparedAnswer>; other: PreparedAnswer | null; any: PreparedAnswer } | null = null;
  /**
   * Replies for the routing tables' choices, by family and chosen regions (see routedKey): at most
   * one per combination the service can produce, never per client.
   */
  routed: Map<number, PreparedAnswer> | null = null;
  /** Refusal replies (SERVFAIL + EDE) by reason and flags, valid for one RegionState version. */
  refusals: Map<string, PreparedAnswer> | null = null;
  refusalsStateVersion = -1;
  /** DNSSEC: the compact NODATA denial for any type the name does not have (pre-signed; null until made). */
  nodata: SignedTwin | null = null;
  /** (Made on first use: most names are never a delegation point, answered or refused.) */
  private referrals: Map<number, PreparedAnswer> | null = null;

  constructor(
    readonly name: string,
    readonly zone: ZoneData,
    private readonly view: ZoneView,
  ) {
    this.wireLength = nameWireLength(name);
  }

  /** The referrals made so far (one per question length), for the pre-signer. */
  madeReferrals(): PreparedAnswer[] {
    return this.referrals === null ? [] : [...this.referrals.values()];
  }

  /** Referral from this delegation point, for a question name of `qnameWireLength` octets. */
  referral(qnameWireLength: number): PreparedAnswer {
    if (this.referrals === null) this.referrals = new Map();
    let answer = this.referrals.get(qnameWireLength);
    if (answer === undefined) {
      answer = this.view.buildReferral(this, qnameWireLength);
      this.referrals.set(qnameWireLength, answer);
    }
    return answer;
  }
}

export class ZoneView {
  version: number;
  /** Address RRs shared by every service of the view (20 regions, not 10,000 services x 6 regions). */
  private readonly addressRecords = new Map<string, Buffer>();
  readonly warnings: string[] = [];
  private readonly nodes = new Map<string, NameNode>();
  private readonly zones = new Map<string, ZoneData>();
  /** Most labels of any owner name: longer question names are trimmed before the suffix walk. */
  private maxLabels = 0;

  /** DNSSEC: when the signatures made at build time should be made anew (ms epoch; Infinity = unsigned). */
  resignAt = Infinity;
  /** Compact-denial (and wildcard) replies by name (and QTYPE for NODATA), most recently used last; signed per name, then reused. */
  private readonly denials = new Map<string, SignedTwin>();
  /** DNSSEC: the signed DS or NSEC of each delegation point, for referrals, per signer. */
  private proofs = new WeakMap<ZoneSigner, Map<NameNode, DelegationProof>>();
  /** Where this view's signatures are counted (query path or background). */
  readonly signatures: SignatureCounter;
  /**
   * Called when there is signing to do ahead of queries (new twins, a new walk): starts the
   * pre-signer, and says whether there is one (false: nothing is signed ahead).
   */
  onWork: (() => boolean) | null = null;
  /** Twins made since the pre-signer last looked (routed variants, denials while re-signing). */
  private queue: SignedTwin[] = [];
  private queueHead = 0;
  /** The walk over every twin that can be enumerated (after a build, an update, a resign); null when done. */
  private walk: Iterator<SignedTwin | null> | null = null;
  private workSignalled = false;
  /** While re-signing: when to swap signers even if the pre-signer has not finished (ms epoch). */
  private forceSwapAt = Infinity;
  static readonly PRESIGN_QUEUE_LIMIT = 100_000;
  static readonly DENIAL_CACHE_SIZE = 20_000;
  /** Most changed services update() takes in place; beyond, a new view costs about the same. */
  static readonly MAX_UPDATED_SERVICES = 256;

  private constructor(
    public snapshot: RoutingSnapshot,
    private readonly dnssec: DnssecSettings | null = null,
    signatures: SignatureCounter | null = null,
  ) {
    this.version = snapshot.version;
    this.signatures = signatures ?? new SignatureCounter();
  }

  /**
   * This view serving `snapshot`, which has the same zones, services and region data as the
   * view's own (only health or drain differ): nothing is rebuilt, and prepared answers stay valid
   * because they depend on the chosen regions, not on why they were chosen.
   */
  withSnapshot(snapshot: RoutingSnapshot): ZoneView {
    this.snapshot = snapshot;
    this.version = snapshot.version;
    return this;
  }

  /**
   * This view serving `snapshot`, whose region data is the view's own, when what changed fits an
   * update in place: zones whose serial alone changed (every registry write bumps it) get their
   * SOA-bearing replies made again; services with the same names whose objects changed (a PATCH,
   * a lag report) get new service data and lose their prepared replies; nothing else is rebuilt.
   * Returns null when the change does not fit (a name, record or other zone field changed, or
   * many services did: a full build is then as cheap), and the view is left as it was.
   */
  update(snapshot: RoutingSnapshot, maxChanged = ZoneView.MAX_UPDATED_SERVICES): ZoneView | null {
    const plan = this.updatePlan(snapshot, maxChanged);
    if (plan === null) return null;
    const { reserialed, pending } = plan;
    const replaced = new Map<ServiceData, ServiceData>();
    // Everything checked: apply.
    for (const [node, service] of pending) {
      replaced.set(node.service!, new ServiceData(service, planFor(snapshot, service), snapshot.regions, this.warn, this.addressRecords));
    }
    const zonesTouched = new Set<ZoneData>();
    for (const [data, zone] of reserialed) {
      data.takeSerial(zone);
      zonesTouched.add(data);
    }
    for (const node of this.nodes.values()) {
      const old = node.service;
      if (old !== null && replaced.has(old)) node.service = replaced.get(old)!;
      const dynamic = node.dynamic;
      if (dynamic !== null && replaced.has(dynamic.service)) {
        node.dynamic = { ...dynamic, service: replaced.get(dynamic.service)! };
        node.routed = null;
        node.refusals = null;
      }
      if (zonesTouched.has(node.zone)) {
        if (node.otherIsNegative) node.other = node.zone.negative(RCODE.NOERROR, node.wireLength);
        node.routed = null; // NODATA replies carry the SOA
        node.nodata = null;
        if (node === node.zone.apex) this.rebuildApex(node);
        if (node.cut === node) this.buildDelegationDs(node); // its NODATA carries the SOA
      }
    }
    if (zonesTouched.size > 0) this.denials.clear(); // they carry the SOA
    this.proofs = new WeakMap();
    this.restartWalk();
    this.snapshot = snapshot;
    this.version = snapshot.version;
    return this;
  }

  /** Whether update(snapshot) would apply (it does the same checks, and changes nothing here). */
  fitsUpdate(snapshot: RoutingSnapshot, maxChanged = ZoneView.MAX_UPDATED_SERVICES): boolean {
    return this.updatePlan(snapshot, maxChanged) !== null;
  }

  /** What update(snapshot) changes: zones whose serial alone changed, and changed services at their nodes; null when it does not fit. */
  private updatePlan(snapshot: RoutingSnapshot, maxChanged: number): { reserialed: [ZoneData, ZoneSnap][]; pending: [NameNode, ServiceSnap][] } | null {
    const zonesBefore = this.snapshot.zones;
    if (zonesBefore.size !== snapshot.zones.size) return null;
    const reserialed: [ZoneData, ZoneSnap][] = [];
    for (const [name, zone] of snapshot.zones) {
      const previous = zonesBefore.get(name);
      if (previous === undefined) return null;
      if (previous === zone) continue;
      if (!onlySerialDiffers(previous, zone)) return null;
      const data = this.zones.get(normalize(name));
      if (data === undefined) return null;
      reserialed.push([data, zone]);
    }
    const before = this.snapshot.services;
    if (before.size !== snapshot.services.size) return null;
    const pending: [NameNode, ServiceSnap][] = [];
    // After a change to a few services the two tables share all but a few entries (ImmutableMap.derive).
    const differing = snapshot.services instanceof ImmutableMap ? snapshot.services.differingKeys(before) : null;
    for (const name of differing ?? snapshot.services.keys()) {
      const service = snapshot.services.get(name);
      const previous = before.get(name);
      if (previous === undefined || service === undefined) return null;
      if (previous === service) continue;
      const node = this.nodes.get(normalize(name));
      if (node === undefined || node.service === null || normalize(service.fqdn) !== node.name) return null;
      if (pending.length >= maxChanged) return null;
      pending.push([node, service]);
    }
    return { reserialed, pending };
  }

  /** The apex's replies again (its SOA reply carries the serial). */
  private rebuildApex(apex: NameNode): void {
    apex.answers.clear();
    const dynamic = apex.dynamic;
    this.buildNode(apex);
    if (dynamic !== null && apex.dynamic === null) apex.dynamic = dynamic;
  }

  /**
   * The reply for a service name answered with the regions at `chosen[0..count-1]` (plan
   * positions, best first): their addresses of the family in order, without duplicates; NODATA
   * (or the CNAME alone) when they have none. Built on first use, then reused.
   */
  routedAnswer(node: NameNode, isA: boolean, chosen: Int32Array, count: number): PreparedAnswer {
    let key = isA ? 1 : 2;
    for (let c = 0; c < count; c++) key = key * 65 + chosen[c] + 1;
    if (node.routed === null) node.routed = new Map();
    const known = node.routed.get(key);
    if (known !== undefined) return known;
    const dynamic = node.dynamic!;
    const service = dynamic.service;
    const regions = service.plan.regions;
    const addresses: string[] = [];
    for (let c = 0; c < count; c++) {
      const region = regions[chosen[c]];
      for (const address of isA ? region.ipv4 : region.ipv6) if (!addresses.includes(address)) addresses.push(address);
    }
    const zone = node.zone;
    const signed = zone.signer !== null;
    let answer: PreparedAnswer;
    if (addresses.length === 0) {
      const prefixSigned = dynamic.prefixSigned;
      answer =
        dynamic.prefix !== null
          ? prepared(RCODE.NOERROR, true, {
              ancount: dynamic.prefixCount,
              body: dynamic.prefix,
              signed: prefixSigned === null ? null : this.twin(zone, true, (s) => {
                const w = prefixSigned(s);
                return prepared(RCODE.NOERROR, true, { ancount: w.records, body: w.bytes() });
              }),
            })
          : zone.negative(RCODE.NOERROR, node.wireLength);
    } else {
      const parts: Buffer[] = [];
      for (const address of addresses) {
        let rr = service.addressRecord(isA ? 4 : 6, address);
        if (dynamic.ownerPointer !== HEADER_LENGTH) {
          rr = Buffer.from(rr);
          rr.writeUInt16BE(0xc000 | dynamic.ownerPointer, 0);
        }
        parts.push(rr);
      }
      const count = dynamic.prefixCount + addresses.length;
      // Signed once per (name, family, chosen regions): by the pre-signer (queued here), or by the first DO=1 query that comes before it.
      const twin = !signed
        ? null
        : this.twin(zone, true, (s) => {
            const type = isA ? TYPE.A : TYPE.AAAA;
            const rdatas = parts.map((rr) => rr.subarray(12));
            const sigs = s.sign(canonicalName(dynamic.ownerName), type, service.ttl, rdatas).map((sig) => rrsigRecord(dynamic.ownerPointer, service.ttl, sig));
            const prefix = dynamic.prefixSigned === null ? null : dynamic.prefixSigned(s);
            return prepared(RCODE.NOERROR, true, {
              ancount: (prefix === null ? 0 : prefix.records) + addresses.length + sigs.length,
              body: ownBuffer(prefix !== null ? [prefix.bytes(), ...parts, ...sigs] : [...parts, ...sigs]),
            });
          });
      answer = prepared(RCODE.NOERROR, true, { ancount: count, body: ownBuffer(dynamic.prefix !== null ? [dynamic.prefix, ...parts] : parts), signed: twin });
    }
    node.routed.set(key, answer);
    return answer;
  }

  /**
   * SERVFAIL with an Extended DNS Error for a refused service name: INFO-CODE 18 (Prohibited) for
   * residency refusals, 0 (Other) otherwise; the text is the engine's detail, cut to 200 octets.
   * Kept per (reason, flags) while the state array keeps its version.
   */
  refusal(node: NameNode, reason: Reason, stateVersion: number, residencyApplies: boolean, primaryOnly: boolean, detail: () => string): PreparedAnswer {
    if (node.refusals === null || node.refusalsStateVersion !== stateVersion) {
      node.refusals = new Map();
      node.refusalsStateVersion = stateVersion;
    }
    const key = `${reason}|${residencyApplies ? 1 : 0}|${primaryOnly ? 1 : 0}`;
    let answer = node.refusals.get(key);
    if (answer === undefined) {
      let text: Buffer = Buffer.from(detail(), "utf8");
      if (text.length > MAX_EDE_TEXT) text = truncateUtf8(text, MAX_EDE_TEXT);
      const code = reason.startsWith('residency-') ? EDE_CODE.PROHIBITED : EDE_CODE.OTHER;
      answer = prepared(RCODE.SERVFAIL, false, { edeCode: code, edeText: ownBuffer([text]) });
      node.refusals.set(key, answer);
    }
    return answer;
  }

  /** Replies held for routed answers and refusals, all names. */
  preparedDynamicAnswers(): number {
    let n = 0;
    for (const node of this.nodes.values()) n += (node.routed?.size ?? 0) + (node.refusals?.size ?? 0);
    return n;
  }

  static build(snapshot: RoutingSnapshot, dnssec: DnssecSettings | null = null, signatures: SignatureCounter | null = null, onWork: (() => boolean) | null = null): ZoneView {
    return runToEnd(ZoneView.buildSteps(snapshot, dnssec, signatures, onWork));
  }

  /**
   * build() as steps (routing/steps.ts), yielding between names: a view of 10,000 services is
   * built in slices while the view in service answers. Nothing is shared with that view but the
   * signature counter.
   */
  static *buildSteps(snapshot: RoutingSnapshot, dnssec: DnssecSettings | null = null, signatures: SignatureCounter | null = null, onWork: (() => boolean) | null = null): Steps<ZoneView> {
    const view = new ZoneView(snapshot, dnssec, signatures);
    view.onWork = onWork;
    yield* view.load();
    view.restartWalk();
    return view;
  }

  /**
   * A view built ahead (buildSteps without a pre-signer hook) going into service: the hook, and
   * the walk over its answers to sign started with it.
   */
  serveWith(onWork: (() => boolean) | null): void {
    this.onWork = onWork;
    this.workSignalled = false;
    this.restartWalk();
  }

  /**
   * Signatures made anew (DnsResponder.maintain, halfway through the validity window): each
   * signed zone gets a pending signer; the pre-signer makes every twin (and cached denial) with
   * it while the current signatures, valid for half a window more, keep being served, then swaps
   * (`presign`). Nothing is signed here. Without a pre-signer (`onWork` null) the signers are
   * swapped at once and answers are signed again as queries need them.
   */
  resign(): void {
    const settings = this.dnssec;
    if (settings === null) return;
    for (const zone of this.zones.values()) zone.resign(settings, this.signatures);
    const now = settings.now?.() ?? Date.now();
    this.resignAt = now + (settings.validitySeconds * 1000) / 2;
    // The old signatures stay valid until now + validity/2: swap at the latest a quarter window on.
    this.forceSwapAt = now + (settings.validitySeconds * 1000) / 4;
    if (!(this.onWork?.() ?? false)) {
      this.swapSigners();
      return;
    }
    this.workSignalled = true;
    this.walk = this.presignable();
  }

  /** Whether a re-signing waits for the pre-signer. */
  get resigning(): boolean {
    return this.forceSwapAt !== Infinity;
  }

  /** Puts every pending signer in service (the end of a re-signing). */
  swapSigners(): void {
    for (const zone of this.zones.values()) zone.swapSigner();
    this.proofs = new WeakMap();
    this.forceSwapAt = Infinity;
  }

  /** Called by maintain(): a re-signing the pre-signer could not finish in a quarter window swaps anyway. */
  swapIfOverdue(now: number): boolean {
    if (now < this.forceSwapAt) return false;
    this.swapSigners();
    return true;
  }

  /**
   * Signs ahead of queries, up to `budget` twins looked at (the pre-signer calls it in slices):
   * first twins made since the last call, then the walk over every enumerable answer of the
   * signed zones — each static RRset, SOA, NS, DNSKEY, CDS, CDNSKEY, DS, CNAME chains, referrals,
   * and each service name's answer for every single region (A and AAAA) — then the cached
   * denials. When all is done, a re-signing swaps signers. Returns true when nothing is left.
   */
  presign(budget: number): boolean {
    try {
      return this.presignSteps(budget);
    } catch (err) {
      // Whatever is left is signed on first use; a re-signing swaps now (its answers too).
      this.walk = null;
      this.queue = [];
      this.queueHead = 0;
      this.workSignalled = false;
      if (this.resigning) this.swapSigners();
      throw err;
    }
  }

  private presignSteps(budget: number): boolean {
    for (let i = 0; i < budget; i++) {
      if (this.queueHead < this.queue.length) {
        const twin = this.queue[this.queueHead++];
        twin.prepare();
        continue;
      }
      if (this.queue.length > 0) {
        this.queue = [];
        this.queueHead = 0;
      }
      const walk = this.walk;
      if (walk === null) {
        if (this.resigning) this.swapSigners();
        this.workSignalled = false;
        return true;
      }
      const step = walk.next();
      if (step.done === true) this.walk = null;
      else step.value?.prepare();
    }
    return false;
  }

  /** Starts the walk over every enumerable twin (and tells the pre-signer). */
  private restartWalk(): void {
    if (!this.signed) return;
    this.walk = this.presignable();
    this.signal();
  }

  private signal(): void {
    if (!this.workSignalled) this.workSignalled = this.onWork?.() ?? false;
  }

  /** A signed twin of `zone`; queued for the pre-signer when `queue` (answers made after the walk may have passed them). */
  private twin(zone: ZoneData, queue: boolean, make: (signer: ZoneSigner) => PreparedAnswer): SignedTwin {
    const twin = new SignedTwin(zone, make as (signer: TwinSigner) => PreparedAnswer);
    if (queue) this.enqueue(twin);
    return twin;
  }

  private enqueue(twin: SignedTwin): void {
    if (this.queue.length - this.queueHead >= ZoneView.PRESIGN_QUEUE_LIMIT) return; // signed on first use instead
    this.queue.push(twin);
    this.signal();
  }

  /** Every twin the pre-signer can make ahead of queries, with null for answers that have none. */
  private *presignable(): Generator<SignedTwin | null> {
    const chosen = new Int32Array(1);
    for (const node of [...this.nodes.values()]) {
      if (node.zone.signer === null) continue;
      if (node.cut !== null) {
        yield node.other.signed;
        if (node.cut === node) {
          yield node.answers.get(TYPE.DS)?.signed ?? null;
          if (!node.rrsets.has(TYPE.DS) && node.wireLength + 2 <= 255) yield node.nodata ?? this.nodataTwin(node); // DS NODATA at the cut
          // Referrals for names below the cut that have no node (made by queries, one per length).
          for (const referral of node.madeReferrals()) yield referral.signed;
        }
        continue;
      }
      for (const answer of [...node.answers.values()]) yield answer.signed;
      yield node.any.signed;
      yield node.other.signed;
      // NODATA for the types the name does not have: one compact denial per name.
      if (node.otherIsNegative && node.zone.signer !== null && node.wireLength + 2 <= 255) yield node.nodata ?? this.nodataTwin(node);
      const dynamic = node.dynamic;
      if (dynamic === null) continue;
      // answerCount 1 under every policy: each single region, per family.
      const regions = dynamic.service.plan.regions.length;
      for (const isA of [true, false]) {
        for (let p = 0; p < regions; p++) {
          if (node.dynamic === null) break;
          chosen[0] = p;
          yield this.routedAnswer(node, isA, chosen, 1).signed;
        }
      }
      // Variants queries made (answerCount > 1): re-signed too, so a re-signing signs nothing inline.
      const routed = node.routed;
      if (routed !== null) for (const answer of [...routed.values()]) yield answer.signed;
    }
    for (const twin of [...this.denials.values()]) yield twin;
  }

  /** Query-path signing budget (a token bucket over `onlineSignaturesPerSecond`). */
  private signTokens = -1;
  private signLast = 0;

  /** One signature's worth of the query-path budget, or false when it is spent. */
  private takeSigningToken(): boolean {
    const rate = this.dnssec?.onlineSignaturesPerSecond ?? 0;
    if (rate <= 0) return true;
    const now = performance.now();
    const tokens = this.signTokens < 0 ? rate : Math.min(rate, this.signTokens + ((now - this.signLast) / 1000) * rate);
    this.signLast = now;
    if (tokens < 1) {
      this.signTokens = tokens;
      this.signingRefused++;
      return false;
    }
    this.signTokens = tokens - 1;
    return true;
  }

  /** Query-path signatures refused because the budget was spent (for metrics and tests). */
  signingRefused = 0;

  /** Whether any zone of the view is signed. */
  get signed(): boolean {
    return this.resignAt !== Infinity;
  }

  /**
   * The DO=1 reply to a negative answer in a signed zone (RFC 9824 compact denial): NOERROR with
   * the signed SOA, and an NSEC owned by the question name whose next name is "\000.<qname>" —
   * for a name that exists (`node`), its bitmap lists the types present but `qtype`; for a name
   * that does not, the bitmap is RRSIG NSEC NXNAME. Signed on first use per name, then kept
   * (least recently used dropped past DENIAL_CACHE_SIZE). Null when the zone is unsigned or the
   * "\000." name would be too long.
   */
  denial(zone: ZoneData, node: NameNode | undefined, msg: Uint8Array, qnameWireLength: number, qtype: number, qname: string, onlyCached = false): PreparedAnswer | null | undefined {
    const signer = zone.signer;
    if (signer === null || qnameWireLength + 2 > 255) return null;
    // An existing name without the type (not an engine NODATA): one denial per name, signed ahead.
    if (node !== undefined && !node.rrsets.has(qtype) && !(node.dynamic !== null && (qtype === TYPE.A || qtype === TYPE.AAAA))) {
      let twin = node.nodata;
      if (twin === null) {
        if (onlyCached || !this.takeSigningToken()) return undefined;
        twin = this.nodataTwin(node);
      } else if (!twin.ready && (onlyCached || !this.takeSigningToken())) return undefined;
      return twin.get()!;
    }
    const key = node === undefined ? qname : `${qname}\u0000${qtype}`;
    const denials = this.denials;
    const known = denials.get(key);
    if (known !== undefined) {
      denials.delete(key);
      denials.set(key, known);
      // Made with a signer no longer serving and not prepared by the pre-signer: under the same budget as a new one.
      if (!known.ready && (onlyCached || !this.takeSigningToken())) return undefined;
      return known.get()!;
    }
    if (onlyCached || !this.takeSigningToken()) return undefined;
    const owner = lowerWireName(msg, HEADER_LENGTH, qnameWireLength);
    const nsec = compactNsecRdata(owner, node === undefined ? null : typesAt(node).filter((t) => t !== qtype));
    const twin = this.twin(zone, zone.pending !== null, (s) => this.compactDenial(zone, s, owner, qnameWireLength, nsec));
    if (denials.size >= ZoneView.DENIAL_CACHE_SIZE) denials.delete(denials.keys().next().value!);
    denials.set(key, twin);
    return twin.get()!;
  }

  /** The NODATA denial of an existing name for the types it does not have (question = the name, any case). */
  private nodataTwin(node: NameNode): SignedTwin {
    const zone = node.zone;
    const owner = canonicalName(node.name);
    const nsec = compactNsecRdata(owner, typesAt(node));
    const twin = this.twin(zone, zone.pending !== null, (s) => this.compactDenial(zone, s, owner, node.wireLength, nsec));
    node.nodata = twin;
    return twin;
  }

  /** NOERROR, the SOA and its RRSIGs, the NSEC owned by the question and its RRSIGs (RFC 9824). */
  private compactDenial(zone: ZoneData, s: ZoneSigner, owner: Buffer, qnameWireLength: number, nsec: Buffer): PreparedAnswer {
    const ttl = zone.negativeSoaTtl;
    const w = new RecordWriter(HEADER_LENGTH + qnameWireLength + 4);
    w.knownName(zone.name, HEADER_LENGTH + qnameWireLength - zone.wireLength);
    writeSoa(w, zone, ttl);
    this.writeRrsigs(w, zone.name, TYPE.SOA, ttl, zone.soaSignatures(s));
    w.record(QUESTION_POINTER, TYPE_NSEC, ttl, (x) => x.raw(nsec));
    this.writeRrsigs(w, QUESTION_POINTER, TYPE_NSEC, ttl, s.sign(owner, TYPE_NSEC, ttl, [nsec]));
    return prepared(RCODE.NOERROR, true, { nscount: w.records, body: w.bytes() });
  }

  /** The zone a name belongs to (its longest served zone), for answers without a node. */
  zoneFor(name: string): ZoneData | undefined {
    return this.zoneOf(name);
  }

  /** The node of an existing name (lower case, presentation form), if any. */
  find(qname: string): NameNode | undefined {
    return this.nodes.get(qname);
  }

  /** The longest existing proper ancestor of a name that does not exist; undefined outside every zone. */
  closestEncloser(qname: string): NameNode | undefined {
    let labels = 1;
    for (let i = qname.indexOf('.'); i >= 0; i = qname.indexOf('.', i + 1)) labels++;
    let i = qname.indexOf('.');
    while (i >= 0) {
      labels--;
      if (labels <= this.maxLabels) {
        const node = this.nodes.get(qname.slice(i + 1));
        if (node !== undefined) return node;
      }
      i = qname.indexOf('.', i + 1);
    }
    return undefined;
  }

  get zoneNames(): string[] {
    return [...this.zones.keys()];
  }

  get nameCount(): number {
    return this.nodes.size;
  }

  // ---- building ----

  private warn = (message: string): void => {
    if (this.warnings.length < 1000) this.warnings.push(message);
  };

  private *load(): Steps<void> {
    for (const snap of this.snapshot.zones.values()) {
      yield;
      const name = normalize(snap.name);
      try {
        if (name === '') throw new Error('the root zone is not served');
        checkEncodable(name);
      } catch (error) {
        this.warn(`zone ${snap.name}: ${(error as Error).message}`);
        continue;
      }
      const zone = new ZoneData(name, snap);
      for (const problem of zone.problems) this.warn(`zone ${name}: ${problem}`);
      if (snap.dnssec) {
        if (this.dnssec === null) this.warn(`zone ${name}: signed, but this server has no DNSSEC settings; served unsigned`);
        else {
          try {
            zone.signer = new ZoneSigner(name, snap.dnssec, this.dnssec, this.signatures);
            // Made anew halfway through the validity window, long before any signature expires.
            this.resignAt = Math.min(this.resignAt, (this.dnssec.now?.() ?? Date.now()) + (this.dnssec.validitySeconds * 1000) / 2);
          } catch (error) {
            this.warn(`zone ${name}: DNSSEC keys unusable, served unsigned: ${(error as Error).message}`);
          }
        }
      }
      this.zones.set(name, zone);
      zone.apex = this.ensureNode(name, zone);
    }
    for (const zone of this.zones.values()) yield* this.loadRecords(zone);
    yield* this.loadServices();
    let n = 0;
    for (const node of [...this.nodes.values()]) {
      this.ensureAncestors(node);
      if (++n % 256 === 0) yield;
    }
    for (const zone of this.zones.values()) this.loadApex(zone);
    for (const node of this.nodes.values()) {
      this.applyDataRules(node);
      if (++n % 256 === 0) yield;
    }
    yield* this.markCutsAndWildcards();
    for (const node of this.nodes.values()) {
      this.buildNode(node);
      yield;
    }
    for (const node of this.nodes.values()) {
      this.maxLabels = Math.max(this.maxLabels, nameLabels(node.name).length);
      if (++n % 256 === 0) yield;
    }
  }

  /** The longest served zone containing `name`. */
  private zoneOf(name: string): ZoneData | undefined {
    let candidate = name;
    for (;;) {
      const zone = this.zones.get(candidate);
      if (zone !== undefined) return zone;
      const dot = candidate.indexOf('.');
      if (dot < 0) return undefined;
      candidate = candidate.slice(dot + 1);
    }
  }

  private ensureNode(name: string, zone: ZoneData): NameNode {
    let node = this.nodes.get(name);
    if (node === undefined) {
      node = new NameNode(name, zone, this);
      this.nodes.set(name, node);
    }
    return node;
  }

  private ensureAncestors(node: NameNode): void {
    let name = node.name;
    while (name !== node.zone.name) {
      const dot = name.indexOf('.');
      if (dot < 0) return;
      name = name.slice(dot + 1);
      this.ensureNode(name, node.zone);
    }
  }

  private *loadRecords(zone: ZoneData): Steps<void> {
    for (const record of zone.snap.records) {
      yield;
      const name = normalize(record.name);
      const type = TYPE_BY_NAME[record.type];
      const where = `record ${record.name} ${record.type}`;
      if (type === undefined) {
        this.warn(`${where}: unsupported type`);
        continue;
      }
      if (this.zoneOf(name) !== zone) {
        this.warn(`${where}: not in zone ${zone.name} (or inside a more specific served zone)`);
        continue;
      }
      try {
        checkEncodable(name);
      } catch (error) {
        this.warn(`${where}: ${(error as Error).message}`);
        continue;
      }
      const node = this.ensureNode(name, zone);
      for (const value of record.values) this.addValue(node, type, clampTtl(record.ttl), value, where);
    }
  }

  private addValue(node: NameNode, type: number, ttl: number, value: string, where: string): void {
    let key: string;
    try {
      key = rdataKey(type, value);
    } catch (error) {
      this.warn(`${where}: value "${value}" skipped: ${(error as Error).message}`);
      return;
    }
    let rrset = node.rrsets.get(type);
    if (rrset === undefined) {
      rrset = { type, ttl, values: [], keys: new Set() };
      node.rrsets.set(type, rrset);
    }
    rrset.ttl = Math.min(rrset.ttl, ttl);
    if (rrset.keys.has(key)) return;
    rrset.keys.add(key);
    rrset.values.push(value);
  }

  private *loadServices(): Steps<void> {
    for (const snap of this.snapshot.services.values()) {
      yield;
      const fqdn = normalize(snap.fqdn);
      const zone = this.zoneOf(fqdn);
      if (zone === undefined) {
        this.warn(`service ${snap.fqdn}: not inside a served zone`);
        continue;
      }
      try {
        checkEncodable(fqdn);
      } catch (error) {
        this.warn(`service ${snap.fqdn}: ${(error as Error).message}`);
        continue;
      }
      const node = this.ensureNode(fqdn, zone);
      node.service = new ServiceData(snap, planFor(this.snapshot, snap), this.snapshot.regions, this.warn, this.addressRecords);
    }
  }

  /** Apex NS = the zone's nameservers plus static NS at the apex, TTL = zone ttl. */
  private loadApex(zone: ZoneData): void {
    const apex = zone.apex;
    const staticNs = apex.rrsets.get(TYPE.NS);
    apex.rrsets.delete(TYPE.NS);
    const ttl = clampTtl(zone.snap.ttl);
    for (const ns of zone.snap.nameservers) this.addValue(apex, TYPE.NS, ttl, ns, `zone ${zone.name} nameserver`);
    if (staticNs) for (const v of staticNs.values) this.addValue(apex, TYPE.NS, ttl, v, `zone ${zone.name} NS`);
    if (!apex.rrsets.has(TYPE.NS)) this.warn(`zone ${zone.name}: no nameservers`);
  }

  private applyDataRules(node: NameNode): void {
    const isApex = node.zone.apex === node;
    if (node.service !== null) {
      for (const type of [TYPE.A, TYPE.AAAA, TYPE.CNAME]) {
        if (node.rrsets.delete(type)) this.warn(`${node.name}: static ${typeName(type)} ignored at a service name`);
      }
    }
    const cname = node.rrsets.get(TYPE.CNAME);
    if (cname === undefined) return;
    if (isApex) {
      node.rrsets.delete(TYPE.CNAME);
      this.warn(`${node.name}: CNAME at a zone apex ignored`);
      return;
    }
    for (const type of [...node.rrsets.keys()]) {
      if (type !== TYPE.CNAME) {
        node.rrsets.delete(type);
        this.warn(`${node.name}: ${typeName(type)} ignored beside a CNAME`);
      }
    }
    if (cname.values.length > 1) {
      this.warn(`${node.name}: CNAME has ${cname.values.length} values; the first is served`);
      cname.values.length = 1;
    }
  }

  private *markCutsAndWildcards(): Steps<void> {
    let n = 0;
    for (const node of this.nodes.values()) {
      if (++n % 64 === 0) yield;
      // The topmost NS RRset below the apex on the way up is the delegation point.
      let name = node.name;
      let cut: NameNode | null = null;
      while (name !== node.zone.name) {
        const ancestor = this.nodes.get(name);
        if (ancestor !== undefined && ancestor.rrsets.has(TYPE.NS)) cut = ancestor;
        const dot = name.indexOf('.');
        if (dot < 0) break;
        name = name.slice(dot + 1);
      }
      node.cut = cut;
      if (cut !== null && node.service !== null) this.warn(`service ${node.name}: below the delegation ${cut.name}; referral served`);
      if (node.name.startsWith('*.')) {
        const parent = this.nodes.get(node.name.slice(2));
        if (parent !== undefined) parent.wildcard = node;
      }
    }
  }

  private buildNode(node: NameNode): void {
    if (node.cut !== null) {
      const referral = node.cut.referral(node.wireLength);
      node.other = referral;
      node.any = referral;
      if (node.cut === node) this.buildDelegationDs(node);
      return;
    }
    try {
      this.buildAnswers(node);
      if (node.name.startsWith('*.')) this.buildWild(node);
    } catch (error) {
      // Unencodable data at one name must not take the zone down: that name answers NODATA.
      this.warn(`${node.name}: ${(error as Error).message}`);
      node.answers.clear();
      node.dynamic = null;
      node.other = node.zone.negative(RCODE.NOERROR, node.wireLength);
      node.otherIsNegative = true;
      node.any = node.other;
    }
  }

  private buildAnswers(node: NameNode): void {
    const zone = node.zone;
    const signer = zone.signer;
    const cname = node.rrsets.get(TYPE.CNAME);
    if (cname !== undefined) {
      this.buildCname(node, cname);
      return;
    }
    for (const rrset of node.rrsets.values()) {
      const build = (sign: ZoneSigner | null): PreparedAnswer => {
        const w = this.nodeWriter(node);
        this.writeRRset(w, node.name, rrset);
        if (sign) this.writeRrsigs(w, node.name, rrset.type, rrset.ttl, sign.sign(canonicalName(node.name), rrset.type, rrset.ttl, canonicalRdatas(rrset)));
        const ancount = w.records;
        const bodyEnd = w.size;
        if (GLUE_TYPES.has(rrset.type)) this.writeGlue(w, rrset, node.name);
        return prepared(RCODE.NOERROR, true, {
          ancount,
          body: w.slice(0, bodyEnd),
          arcount: w.records - ancount,
          additional: w.slice(bodyEnd),
          signed: sign || signer === null ? null : this.twin(zone, false, build),
        });
      };
      node.answers.set(rrset.type, build(null));
    }
    if (zone.apex === node) {
      const ttl = clampTtl(zone.snap.ttl);
      const soa = (sign: ZoneSigner | null): PreparedAnswer => {
        const w = this.nodeWriter(node);
        writeSoa(w, zone, ttl);
        if (sign) this.writeRrsigs(w, node.name, TYPE.SOA, ttl, zone.soaSignatures(sign));
        return prepared(RCODE.NOERROR, true, { ancount: w.records, body: w.bytes(), signed: sign || signer === null ? null : this.twin(zone, true, soa) });
      };
      node.answers.set(TYPE.SOA, soa(null));
      if (signer !== null) {
        for (const [type, rdatas] of [[TYPE_DNSKEY, signer.dnskeys], [TYPE_CDS, signer.cds], [TYPE_CDNSKEY, signer.cdnskeys]] as const) {
          if (rdatas.length === 0) continue;
          const keys = (sign: ZoneSigner | null): PreparedAnswer => {
            const w = this.nodeWriter(node);
            for (const rdata of rdatas) w.record(node.name, type, ttl, (x) => x.raw(rdata));
            if (sign) this.writeRrsigs(w, node.name, type, ttl, sign.sign(canonicalName(node.name), type, ttl, rdatas));
            return prepared(RCODE.NOERROR, true, { ancount: w.records, body: w.bytes(), signed: sign ? null : this.twin(zone, true, keys) });
          };
          node.answers.set(type, keys(null));
        }
      }
    }
    node.other = zone.negative(RCODE.NOERROR, node.wireLength);
    node.otherIsNegative = true;
    node.any = this.anyAnswer(node, node.answers, () => this.nodeWriter(node));
    if (node.service !== null) {
      node.dynamic = { service: node.service, prefix: null, prefixCount: 0, ownerPointer: QUESTION_POINTER, ownerName: node.name, prefixSigned: null };
    }
  }

  /** RRSIG records after an RRset: same owner and TTL as the RRset (RFC 4035 §2.2). */
  private writeRrsigs(w: RecordWriter, owner: string | number, _type: number, ttl: number, sigs: readonly Buffer[]): void {
    for (const sig of sigs) w.record(owner, TYPE_RRSIG, ttl, (x) => x.raw(sig));
  }

  private buildCname(node: NameNode, cname: RRset): void {
    const target = parseTarget(cname.values[0]);
    const zone = node.zone;
    const signer = zone.signer;
    const cnameWriter = (sign: ZoneSigner | null): RecordWriter => {
      const w = this.nodeWriter(node);
      w.record(node.name, TYPE.CNAME, cname.ttl, (x) => x.name(target));
      if (sign) this.writeRrsigs(w, node.name, TYPE.CNAME, cname.ttl, sign.sign(canonicalName(node.name), TYPE.CNAME, cname.ttl, canonicalRdatas(cname)));
      return w;
    };
    const only = cnameWriter(null);
    const cnameAnswer = prepared(RCODE.NOERROR, true, {
      ancount: 1,
      body: only.bytes(),
      signed: signer === null ? null : this.twin(zone, false, (s) => {
        const w = cnameWriter(s);
        return prepared(RCODE.NOERROR, true, { ancount: w.records, body: w.bytes() });
      }),
    });
    node.answers.set(TYPE.CNAME, cnameAnswer);
    node.other = cnameAnswer;
    node.any = cnameAnswer;
    // One step of chasing, inside the same zone and outside delegations.
    const targetNode = this.nodes.get(target);
    if (targetNode === undefined || targetNode.zone !== node.zone || targetNode.cut !== null || targetNode === node) return;
    if (targetNode.service !== null) {
      node.dynamic = {
        service: targetNode.service,
        prefix: cnameAnswer.body,
        prefixCount: 1,
        ownerPointer: only.offsetOf(target) ?? QUESTION_POINTER,
        ownerName: target,
        prefixSigned: signer === null ? null : cnameWriter,
      };
    }
    for (const rrset of targetNode.rrsets.values()) {
      if (rrset.type === TYPE.CNAME) continue;
      const chased = (sign: ZoneSigner | null): PreparedAnswer => {
        const w = cnameWriter(sign);
        this.writeRRset(w, target, rrset);
        if (sign) this.writeRrsigs(w, target, rrset.type, rrset.ttl, sign.sign(canonicalName(target), rrset.type, rrset.ttl, canonicalRdatas(rrset)));
        return prepared(RCODE.NOERROR, true, { ancount: w.records, body: w.bytes(), signed: sign || signer === null ? null : this.twin(zone, false, chased) });
      };
      node.answers.set(rrset.type, chased(null));
    }
  }

  /**
   * DS at a delegation point is the parent's data (RFC 4035 §2.4, RFC 4034 §5): answered with
   * AA from this zone, NODATA + SOA when there is none, never a referral.
   */
  private buildDelegationDs(node: NameNode): void {
    const ds = node.rrsets.get(TYPE.DS);
    if (ds === undefined) {
      node.answers.set(TYPE.DS, node.zone.negative(RCODE.NOERROR, node.wireLength));
      return;
    }
    const signer = node.zone.signer;
    const build = (sign: ZoneSigner | null): PreparedAnswer => {
      const w = this.nodeWriter(node);
      this.writeRRset(w, node.name, ds);
      if (sign) this.writeRrsigs(w, node.name, TYPE.DS, ds.ttl, sign.sign(canonicalName(node.name), TYPE.DS, ds.ttl, canonicalRdatas(ds)));
      return prepared(RCODE.NOERROR, true, { ancount: w.records, body: w.bytes(), signed: sign || signer === null ? null : this.twin(node.zone, true, build) });
    };
    node.answers.set(TYPE.DS, build(null));
  }

  /** Replies for a "*" node that fit any question name: owner 0xC00C, names in rdata uncompressed. */
  private buildWild(node: NameNode): void {
    const answers = new Map<number, PreparedAnswer>();
    const cname = node.rrsets.get(TYPE.CNAME);
    let other: PreparedAnswer | null = null;
    for (const rrset of node.rrsets.values()) {
      const w = new RecordWriter(0, false);
      this.writeRRset(w, QUESTION_POINTER, rrset);
      answers.set(rrset.type, prepared(RCODE.NOERROR, true, { ancount: w.records, body: w.bytes() }));
    }
    if (cname !== undefined) other = answers.get(TYPE.CNAME) ?? null;
    const any = other ?? this.anyAnswer(node, answers, () => new RecordWriter(0, false));
    node.wild = { answers, other, any };
  }

  private anyAnswer(node: NameNode, answers: Map<number, PreparedAnswer>, writer: () => RecordWriter): PreparedAnswer {
    for (const type of ANY_PREFERENCE) {
      const a = answers.get(type);
      if (a !== undefined) {
        if (a.additional === null) return a;
        const twin = a.signed;
        const signed = twin === null ? null : this.twin(node.zone, false, (s) => {
          const full = twin.madeFor(s);
          return prepared(a.rcode, a.aa, { ancount: full.ancount, body: full.body });
        });
        return prepared(a.rcode, a.aa, { ancount: a.ancount, body: a.body, signed });
      }
    }
    // RFC 8482 §4.2: a synthesized HINFO when there is no RRset to pick. Its owner is the
    // question (0xC00C) and it names nothing else: one reply serves every such name of the zone.
    const zone = node.zone;
    if (zone.hinfoAny === null) {
      const w = writer();
      w.record(QUESTION_POINTER, TYPE.HINFO, clampTtl(zone.snap.ttl), (x) => {
        x.characterString(Buffer.from('RFC8482', 'latin1'));
        x.characterString(Buffer.alloc(0));
      });
      zone.hinfoAny = prepared(RCODE.NOERROR, true, { ancount: 1, body: w.bytes() });
    }
    return zone.hinfoAny;
  }

  /** A writer for replies to the node's own name: the question name sits at offset 12. */
  private nodeWriter(node: NameNode): RecordWriter {
    return new RecordWriter(HEADER_LENGTH + node.wireLength + 4).knownName(node.name, QUESTION_POINTER);
  }

  private writeRRset(w: RecordWriter, owner: string | number, rrset: RRset): void {
    for (const value of rrset.values) w.record(owner, rrset.type, rrset.ttl, (x) => writeRdata(x, rrset.type, value));
  }

  /**
   * Additional-section A/AAAA for NS, MX, SRV and SVCB/HTTPS targets we hold static addresses for
   * (a service name's addresses depend on the client: the resolver asks for them itself).
   */
  private writeGlue(w: RecordWriter, rrset: RRset, owner: string): void {
    const seen = new Set<string>();
    for (const value of rrset.values) {
      let target: string | null;
      try {
        target = glueTarget(rrset.type, value, owner);
      } catch {
        continue;
      }
      if (target === null) continue;
      if (seen.has(target)) continue;
      seen.add(target);
      const node = this.nodes.get(target);
      if (node === undefined) continue;
      for (const type of [TYPE.A, TYPE.AAAA]) {
        const addresses = node.rrsets.get(type);
        if (addresses !== undefined) this.writeRRset(w, target, addresses);
      }
    }
  }

  buildReferral(cut: NameNode, qnameWireLength: number): PreparedAnswer {
    const ns = cut.rrsets.get(TYPE.NS);
    if (ns === undefined) return cut.zone.negative(RCODE.NOERROR, qnameWireLength);
    const signer = cut.zone.signer;
    const build = (sign: ZoneSigner | null): PreparedAnswer => {
      const w = new RecordWriter(HEADER_LENGTH + qnameWireLength + 4);
      w.knownName(cut.name, HEADER_LENGTH + qnameWireLength - cut.wireLength);
      this.writeRRset(w, cut.name, ns);
      if (sign) {
        // RFC 4035 §3.1.4: the DS RRset with its RRSIGs, or an NSEC proving there is none (insecure delegation).
        const proof = this.delegationProof(cut, sign);
        for (const rdata of proof.rdatas) w.record(cut.name, proof.type, proof.ttl, (x) => x.raw(rdata));
        this.writeRrsigs(w, cut.name, proof.type, proof.ttl, proof.sigs);
      }
      const nscount = w.records;
      const bodyEnd = w.size;
      this.writeGlue(w, ns, cut.name);
      return prepared(RCODE.NOERROR, false, {
        nscount,
        body: w.slice(0, bodyEnd),
        arcount: w.records - nscount,
        additional: w.slice(bodyEnd),
        signed: sign || signer === null ? null : this.twin(cut.zone, true, build),
      });
    };
    return build(null);
  }

  /** The DS RRset (or compact NSEC) of a delegation point with its RRSIGs, made once per cut. */
  private delegationProof(cut: NameNode, signer: ZoneSigner): DelegationProof {
    let proofs = this.proofs.get(signer);
    if (proofs === undefined) {
      proofs = new Map();
      this.proofs.set(signer, proofs);
    }
    let proof = proofs.get(cut);
    if (proof === undefined) {
      const owner = canonicalName(cut.name);
      const ds = cut.rrsets.get(TYPE.DS);
      if (ds !== undefined) {
        const rdatas = canonicalRdatas(ds);
        proof = { type: TYPE.DS, ttl: ds.ttl, rdatas, sigs: signer.sign(owner, TYPE.DS, ds.ttl, rdatas) };
      } else {
        const ttl = cut.zone.negativeSoaTtl;
        const nsec = compactNsecRdata(owner, [TYPE.NS]);
        proof = { type: TYPE_NSEC, ttl, rdatas: [nsec], sigs: signer.sign(owner, TYPE_NSEC, ttl, [nsec]) };
      }
      proofs.set(cut, proof);
    }
    return proof;
  }

  /**
   * A wildcard answer for DO=1 (RFC 4592 synthesis): signed as if the question name held the
   * RRset (owner = the question, full label count), as online signers do, so no proof that a
   * closer name is absent is needed. Signed per name on first use, kept with the denials;
   * undefined when the query-path signing budget is spent.
   */
  wildcardSigned(wild: NameNode, answer: PreparedAnswer, msg: Uint8Array, qnameWireLength: number, qname: string): PreparedAnswer | undefined {
    const signer = wild.zone.signer;
    if (signer === null || answer.body.length < 4) return answer;
    const type = (answer.body[2] << 8) | answer.body[3];
    const rrset = wild.rrsets.get(type);
    if (rrset === undefined) return answer;
    const key = `*${qname}\u0000${type}`;
    const denials = this.denials;
    const known = denials.get(key);
    if (known !== undefined) {
      if (!known.ready && !this.takeSigningToken()) return undefined;
      return known.get()!;
    }
    if (!this.takeSigningToken()) return undefined;
    const owner = lowerWireName(msg, HEADER_LENGTH, qnameWireLength);
    const zone = wild.zone;
    const twin = this.twin(zone, zone.pending !== null, (s) => {
      const sigs = s.sign(owner, type, rrset.ttl, canonicalRdatas(rrset)).map((sig) => rrsigRecord(QUESTION_POINTER, rrset.ttl, sig));
      return prepared(RCODE.NOERROR, true, { ancount: answer.ancount + sigs.length, body: ownBuffer([answer.body, ...sigs]) });
    });
    if (denials.size >= ZoneView.DENIAL_CACHE_SIZE) denials.delete(denials.keys().next().value!);
    denials.set(key, twin);
    return twin.get()!;
  }
}

/** The DS RRset (or compact NSEC) of a delegation point and its RRSIGs. */
interface DelegationProof {
  readonly type: number;
  readonly ttl: number;
  readonly rdatas: Buffer[];
  readonly sigs: Buffer[];
}

/** The name whose addresses follow a record in the additional section, or null. */
function glueTarget(type: number, value: string, owner: string): string | null {
  if (type === TYPE.MX) return parseMx(value).exchange || null;
  if (type === TYPE.NS) return parseTarget(value);
  const modern = MODERN_TYPE_BY_CODE.get(type);
  return modern === undefined ? null : modernAdditionalTarget(modern, value, owner);
}

/** Each RR's RDATA in canonical form (RFC 4034 §6.2): names uncompressed; the encoder writes them lower case. */
function canonicalRdatas(rrset: RRset): Buffer[] {
  return rrset.values.map((value) => {
    const w = new RecordWriter(0, false);
    writeRdata(w, rrset.type, value);
    return w.bytes();
  });
}

/** The SOA RDATA in canonical form: MNAME and RNAME uncompressed and lower case. */
function soaRdata(zone: ZoneData): Buffer {
  const w = new RecordWriter(0, false);
  const snap = zone.snap;
  w.name(zone.mname.toLowerCase());
  w.name(zone.rname.map((l) => l.toLowerCase()));
  w.u32(snap.serial);
  w.u32(clampTtl(snap.refresh));
  w.u32(clampTtl(snap.retry));
  w.u32(clampTtl(snap.expire));
  w.u32(clampTtl(snap.negativeTtl));
  return w.bytes();
}

/** One RRSIG RR whose owner is a compression pointer (answers assembled from parts). */
function rrsigRecord(ownerPointer: number, ttl: number, sig: Buffer): Buffer {
  const b = Buffer.allocUnsafeSlow(12 + sig.length);
  b.writeUInt16BE(0xc000 | ownerPointer, 0);
  b.writeUInt16BE(TYPE_RRSIG, 2);
  b.writeUInt16BE(1, 4);
  b.writeUInt32BE(ttl, 6);
  b.writeUInt16BE(sig.length, 10);
  sig.copy(b, 12);
  return b;
}

function writeSoa(w: RecordWriter, zone: ZoneData, ttl: number): void {
  const snap = zone.snap;
  w.record(zone.name, TYPE.SOA, ttl, (x) => {
    x.name(zone.mname);
    x.name(zone.rname);
    x.u32(snap.serial);
    x.u32(clampTtl(snap.refresh));
    x.u32(clampTtl(snap.retry));
    x.u32(clampTtl(snap.expire));
    x.u32(clampTtl(snap.negativeTtl));
  });
}

/**
 * RNAME labels (RFC 1035 §8): "hostmaster@example.com" -> [hostmaster, example, com] (dots in the
 * local part stay inside its label); a name already in RNAME form is used as it is.
 */
export function mailboxLabels(hostmaster: string, zone: string): string[] {
  const h = (hostmaster ?? '').trim().replace(/\.$/, '');
  if (h === '') return ['hostmaster', ...nameLabels(zone)];
  const at = h.lastIndexOf('@');
  if (at < 0) return nameLabels(h.toLowerCase());
  return [h.slice(0, at), ...nameLabels(h.slice(at + 1).toLowerCase())];
}

/** EXTRA-TEXT is cut to this many octets so a refusal always fits 512 octets. */
const MAX_EDE_TEXT = 200;

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

/** Two snapshots of one zone that differ in the serial alone (records compared by content). */
function onlySerialDiffers(a: ZoneSnap, b: ZoneSnap): boolean {
  if (
    a.name !== b.name ||
    a.hostmaster !== b.hostmaster ||
    a.ttl !== b.ttl ||
    a.refresh !== b.refresh ||
    a.retry !== b.retry ||
    a.expire !== b.expire ||
    a.negativeTtl !== b.negativeTtl ||
    a.nameservers.join() !== b.nameservers.join() ||
    a.records.length !== b.records.length ||
    JSON.stringify(a.dnssec ?? null) !== JSON.stringify(b.dnssec ?? null)
  ) {
    return false;
  }
  for (let i = 0; i < a.records.length; i++) {
    const x = a.records[i];
    const y = b.records[i];
    if (x.id !== y.id || x.name !== y.name || x.type !== y.type || x.ttl !== y.ttl || x.values.join('\u0000') !== y.values.join('\u0000')) return false;
  }
  return true;
}

/** The types an existing name has (for a compact-denial NSEC bitmap). */
function typesAt(node: NameNode): number[] {
  const types = [...node.rrsets.keys()];
  if (node.dynamic !== null && node.rrsets.get(TYPE.CNAME) === undefined) types.push(TYPE.A, TYPE.AAAA);
  if (node.zone.apex === node) {
    types.push(TYPE.SOA);
    const signer = node.zone.signer;
    if (signer !== null) {
      types.push(TYPE_DNSKEY);
      if (signer.cds.length > 0) types.push(TYPE_CDS, TYPE_CDNSKEY);
    }
  }
  return types;
}

function normalize(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

function typeName(type: number): string {
  for (const [name, value] of Object.entries(TYPE)) if (value === type) return name;
  return `TYPE${type}`;
}
