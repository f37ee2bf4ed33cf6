/**
 * Signs DNSSEC answers ahead of queries, off the hot path (DnsResponder.presign over the view's
 * walk, ZoneView.presign): after a view is built or updated, after key changes and after a
 * re-signing, every answer of the signed zones that can be enumerated, and every answer variant
 * made since by a query. Work runs in slices of about a millisecond with pauses between them,
 * like the TableFiller, so DNS and the API keep answering; an answer asked before the pre-signer
 * has reached it is signed for that query (and counted as a query-path signature).
 *
 * `start()` whenever the responder says there is work (`DnsResponder.onSigningWork`).
 */
import type { DnsResponder } from './responder';
import { SlicedWork } from './sliced-work';

/** Answers looked at between two looks at the clock (an ECDSA signature is ~50 us). */
const STEP = 8;

export class PreSigner extends SlicedWork {
  constructor(
    private readonly responder: DnsResponder,
    onDone?: (ms: number) => void,
    onError?: (err: unknown) => void,
  ) {
    super(onDone, onError);
  }

  protected step(): boolean {
    return this.responder.presign(STEP);
  }
}
