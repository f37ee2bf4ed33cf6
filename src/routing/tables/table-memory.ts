/**
 * Storage for long-lived tables (the GeoIP step index, pointer → class and class tables, the
 * region rankings): typed arrays over a SharedArrayBuffer instead of an ArrayBuffer.
 *
 * V8 counts the length of every ArrayBuffer as "external memory" and starts a full collection of
 * the JavaScript heap each time that count has grown by 64 MB since the last full collection,
 * expecting the collection to free some of it. Tables built once and kept for the life of a GeoIP
 * database are not such memory: collecting sooner frees none of them. Counted, the tables filled
 * after start-up left the event loop that answers DNS a few MB short of that trigger, so the next
 * upload's first megabytes set off a full collection with 8-27 ms pauses (bench/RESULTS.md,
 * issue 16). V8 does not count a SharedArrayBuffer's length (a shared one may be held by several
 * isolates), and reading or writing through its views costs the same as through an ArrayBuffer's.
 * The memory is still freed when the last view of it is collected.
 *
 * Use it for tables that live as long as their database or snapshot, not for scratch space.
 */
export interface TypedArrayKind<T> {
  new (buffer: SharedArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** A zero-filled typed array of `length` elements, uncounted by V8's external-memory trigger. */
export function tableArray<T>(kind: TypedArrayKind<T>, length: number): T {
  return new kind(new SharedArrayBuffer(length * kind.BYTES_PER_ELEMENT), 0, length);
}
