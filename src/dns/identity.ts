/**
 * Which instance answered: NSID (RFC 5001) and the CHAOS-class TXT names of RFC 4892
 * (`id.server.`, `hostname.bind.`, `version.bind.`, `version.server.`).
 *
 * Everything is encoded when the responder is made; the query path only checks a flag of the
 * decoded query (NSID) or, for QCLASS CH (never on the IN path), looks the name up in a map of
 * four prepared replies.
 *
 * Inputs: the identity text (NSID payload and the `id.server` / `hostname.bind` TXT; null = off:
 * no NSID, those names REFUSED) and the version text (null = hidden: `version.*` REFUSED).
 */
import { prepared, type PreparedAnswer } from './answer';
import { CLASS_CH, HEADER_LENGTH, RCODE, TYPE } from './wire/constants';

export interface DnsIdentity {
  /** NSID payload and the id.server / hostname.bind answer; null: off. */
  readonly id: string | null;
  /** version.bind / version.server answer; null: hidden (REFUSED). */
  readonly version: string | null;
}

/** Printable ASCII, 1-255 characters: fits one TXT character-string and reads well in `dig +nsid`. */
export function identityTextProblem(text: string): string | null {
  if (text.length === 0 || text.length > 255) return 'must be 1-255 characters';
  if (!/^[\x20-\x7e]+$/.test(text)) return 'must be printable ASCII';
  return null;
}

const ID_NAMES = ['id.server', 'hostname.bind'];
const VERSION_NAMES = ['version.bind', 'version.server'];

export class IdentityAnswers {
  /** The NSID option's payload, or null when NSID is off. */
  readonly nsid: Buffer | null;
  private readonly chaos = new Map<string, { txt: PreparedAnswer; nodata: PreparedAnswer }>();

  constructor(identity: DnsIdentity) {
    for (const text of [identity.id, identity.version]) {
      if (text !== null) {
        const problem = identityTextProblem(text);
        if (problem !== null) throw new Error(`DNS identity "${text}" ${problem}`);
      }
    }
    this.nsid = identity.id === null ? null : Buffer.from(identity.id, 'latin1');
    if (identity.id !== null) for (const name of ID_NAMES) this.chaos.set(name, chaosReplies(identity.id));
    if (identity.version !== null) for (const name of VERSION_NAMES) this.chaos.set(name, chaosReplies(identity.version));
  }

  /** The reply to a CHAOS-class question, or null when it is not one we answer (REFUSED). */
  chaosAnswer(qname: string, qtype: number): PreparedAnswer | null {
    const replies = this.chaos.get(qname);
    if (replies === undefined) return null;
    return qtype === TYPE.TXT || qtype === TYPE.ANY ? replies.txt : replies.nodata;
  }
}

/** One CH TXT RR, owner = the question (0xC00C), TTL 0 (BIND's choice: each query may reach another instance). */
function chaosReplies(text: string): { txt: PreparedAnswer; nodata: PreparedAnswer } {
  const value = Buffer.from(text, 'latin1');
  const rr = Buffer.alloc(12 + 1 + value.length);
  rr.writeUInt16BE(0xc000 | HEADER_LENGTH, 0);
  rr.writeUInt16BE(TYPE.TXT, 2);
  rr.writeUInt16BE(CLASS_CH, 4);
  rr.writeUInt32BE(0, 6);
  rr.writeUInt16BE(1 + value.length, 10);
  rr[12] = value.length;
  value.copy(rr, 13);
  return { txt: prepared(RCODE.NOERROR, true, { ancount: 1, body: rr }), nodata: prepared(RCODE.NOERROR, true) };
}
