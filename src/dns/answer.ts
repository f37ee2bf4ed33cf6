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

/**
 * The signed copy of a prepared answer (DNSSEC), made the first time a DO=1 query needs it and
 * kept until the zone's signer is replaced (new keys, or signatures made anew before they
 * expire): building a view signs nothing, and re-signing is swapping the signer.
 */
export class SignedTwin {
  private value: PreparedAnswer | null = null;
  private madeWith: object | null = null;

  constructor(
    private readonly zone: { readonly signer: object | null },
    private readonly make: () => PreparedAnswer,
  ) {}

  /** The signed answer, or null when the zone has no signer now. */
  get(): PreparedAnswer | null {
    const signer = this.zone.signer;
    if (signer === null) return null;
    if (this.madeWith !== signer) {
      this.value = this.make();
      this.madeWith = signer;
    }
    return this.value;
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
