/**
 * A reply body prepared ahead of the query: everything after the question except the OPT.
 * Built when a zone view is built (static data) or on a cache miss (engine decisions); the
 * responder copies it behind the client's own header and question.
 *
 * The bytes are laid out for a question name of a known wire length: compression pointers in
 * them point into the question (0xC00C is the question name itself), so a prepared answer is
 * only used for questions whose name has that length (the name itself, in any letter case).
 */
export interface PreparedAnswer {
  /** Header RCODE (0-15). */
  readonly rcode: number;
  readonly aa: boolean;
  readonly ancount: number;
  readonly nscount: number;
  /** Answer and authority records. */
  readonly body: Buffer;
  /** Additional records (glue), dropped first when the reply would not fit. */
  readonly arcount: number;
  readonly additional: Buffer | null;
  /** ECS SCOPE PREFIX-LENGTH for the reply (0 = same answer for every client). */
  readonly ecsScope: number;
  /** RFC 8914 INFO-CODE to add as an Extended DNS Error when the query had EDNS, or -1. */
  readonly edeCode: number;
  readonly edeText: Buffer | null;
  /** The same answer with its RRSIGs (DNSSEC), for queries with DO=1; null when unsigned. */
  readonly signed: SignedTwin | null;
}

/** The signer a twin is made with (a ZoneSigner; kept abstract so this file imports nothing). */
export type TwinSigner = object;

/** What a SignedTwin needs from its zone: the signer serving now, and the one being prepared. */
export interface TwinZone {
  readonly signer: TwinSigner | null;
  /** During a re-signing: the signer that takes over once every twin of the zone has its copy. */
  readonly pending: TwinSigner | null;
}

/**
 * The signed copy of a prepared answer (DNSSEC). Made ahead of queries by the pre-signer
 * (`prepare`, pre-signer.ts) for every answer that can be enumerated, and for the others on the
 * first DO=1 query that needs one (`get`, counted as a query-path signature). While a zone is
 * re-signed the copy made with the serving signer keeps being served and the pre-signer makes the
 * next one beside it (`pending`); when the zone swaps signers, `get` takes the prepared copy.
 */
export class SignedTwin {
  private value: PreparedAnswer | null = null;
  private madeWith: TwinSigner | null = null;
  private next: PreparedAnswer | null = null;
  private nextWith: TwinSigner | null = null;

  constructor(
    private readonly zone: TwinZone,
    private readonly make: (signer: TwinSigner) => PreparedAnswer,
  ) {}

  /** The signed answer, or null when the zone has no signer now. Signs on the spot only when nothing was prepared. */
  get(): PreparedAnswer | null {
    const signer = this.zone.signer;
    if (signer === null) return null;
    if (this.madeWith !== signer) {
      if (this.nextWith === signer) {
        this.value = this.next;
        this.next = null;
        this.nextWith = null;
      } else {
        this.value = this.make(signer);
      }
      this.madeWith = signer;
    }
    return this.value;
  }

  /**
   * Makes the copy for the zone's pending signer (or, when none, the serving one) unless it is
   * there already. Returns true when it signed something.
   */
  prepare(): boolean {
    const zone = this.zone;
    const target = zone.pending ?? zone.signer;
    if (target === null || this.madeWith === target || this.nextWith === target) return false;
    this.madeFor(target);
    return true;
  }

  /** The copy made with `signer` (the serving or the pending one), made now if it is not there. */
  madeFor(signer: TwinSigner): PreparedAnswer {
    if (this.madeWith === signer) return this.value!;
    if (this.nextWith === signer) return this.next!;
    if (this.nextWith !== null && this.nextWith === this.zone.signer) {
      // The copy made for the signer now serving was never asked for: it becomes the current one
      // before the slot is used for another signer (a re-signing started before it was served).
      this.value = this.next;
      this.madeWith = this.nextWith;
    }
    const made = this.make(signer);
    if (signer === this.zone.signer) {
      this.value = made;
      this.madeWith = signer;
    } else {
      this.next = made;
      this.nextWith = signer;
    }
    return made;
  }

  /** Whether `get()` would answer without signing. */
  get ready(): boolean {
    const signer = this.zone.signer;
    return signer === null || this.madeWith === signer || this.nextWith === signer;
  }
}

const EMPTY = Buffer.alloc(0);

export function prepared(
  rcode: number,
  aa: boolean,
  fields: Partial<Omit<PreparedAnswer, 'rcode' | 'aa'>> = {},
): PreparedAnswer {
  return Object.freeze({
    rcode,
    aa,
    ancount: fields.ancount ?? 0,
    nscount: fields.nscount ?? 0,
    body: fields.body ?? EMPTY,
    arcount: fields.arcount ?? 0,
    additional: fields.additional && fields.additional.length > 0 ? fields.additional : null,
    ecsScope: fields.ecsScope ?? 0,
    edeCode: fields.edeCode ?? -1,
    edeText: fields.edeText ?? null,
    signed: fields.signed ?? null,
  });
}

/** The same answer with another ECS scope. */
export function withScope(a: PreparedAnswer, ecsScope: number): PreparedAnswer {
  return a.ecsScope === ecsScope ? a : Object.freeze({ ...a, ecsScope });
}
