/** Marks a key of the base map that a derived map deleted. */
const GONE: unique symbol = Symbol('gone');
/** Only this module can pass layers to the constructor. */
const INTERNAL: unique symbol = Symbol('internal');

interface Layers<K, V> {
  readonly token: typeof INTERNAL;
  readonly base: Map<K, V>;
  readonly replaced: Map<K, V | typeof GONE> | null;
  readonly added: Map<K, V> | null;
  readonly size: number;
}

/**
 * Changes a derived map may carry over its base before they are folded into a new base: at most
 * this share of the base's size (and at least MIN_LAYER). Folding copies every entry (about 4 ms
 * for 10,000 on this project's machines), so it happens once per so many changes, and lookups
 * and iteration never go through more than one small layer.
 */
const LAYER_SHARE = 16;
const MIN_LAYER = 64;

/**
 * A ReadonlyMap that cannot be changed by anyone: it has no mutators, its entries live in private
 * fields, and the instance is frozen. Snapshots expose their tables through it.
 *
 * `derive` makes the map with a few entries set or deleted without copying the others: the new
 * map shares this one's (never changed) base map and keeps the difference in a small layer, so
 * a change to one service of 10,000 costs that one entry, not a copy of the table. Order is a
 * Map's: a replaced key keeps its place, a new key (or one deleted and set again) comes last.
 */
export class ImmutableMap<K, V> implements ReadonlyMap<K, V> {
  readonly #base: Map<K, V>;
  /** Base keys whose value this map replaced, or GONE for deleted ones (null: none). */
  readonly #replaced: Map<K, V | typeof GONE> | null;
  /** Keys this map has beyond the base, in the order they were set (null: none). */
  readonly #added: Map<K, V> | null;
  readonly #size: number;

  constructor(entries: Iterable<readonly [K, V]> = [], layers?: Layers<K, V>) {
    if (layers !== undefined && layers.token === INTERNAL) {
      this.#base = layers.base;
      this.#replaced = layers.replaced;
      this.#added = layers.added;
      this.#size = layers.size;
    } else {
      this.#base = new Map(entries);
      this.#replaced = null;
      this.#added = null;
      this.#size = this.#base.size;
    }
    Object.freeze(this);
  }

  /**
   * A map over `entries` without copying them: the caller hands the Map over and must never
   * change it again (buildSnapshot, for the tables it has just filled).
   */
  static adopt<K, V>(entries: Map<K, V>): ImmutableMap<K, V> {
    return new ImmutableMap<K, V>([], { token: INTERNAL, base: entries, replaced: null, added: null, size: entries.size });
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    if (this.#replaced === null && this.#added === null) return this.#base.get(key);
    if (this.#added?.has(key)) return this.#added.get(key);
    if (this.#replaced?.has(key)) {
      const value = this.#replaced.get(key);
      return value === GONE ? undefined : (value as V);
    }
    return this.#base.get(key);
  }

  has(key: K): boolean {
    if (this.#replaced === null && this.#added === null) return this.#base.has(key);
    if (this.#added?.has(key)) return true;
    if (this.#replaced?.has(key)) return this.#replaced.get(key) !== GONE;
    return this.#base.has(key);
  }

  /**
   * This map with `set` entries set and `remove` keys deleted, as a Map would be after
   * `delete` of each of `remove`, then `set` of each of `set` in order; this map is unchanged.
   */
  derive(set: Iterable<readonly [K, V]>, remove: Iterable<K> = []): ImmutableMap<K, V> {
    const replaced = new Map<K, V | typeof GONE>(this.#replaced ?? []);
    const added = new Map<K, V>(this.#added ?? []);
    let size = this.#size;
    for (const key of remove) {
      if (added.has(key)) {
        added.delete(key);
        size--;
      } else if (this.#base.has(key) && replaced.get(key) !== GONE) {
        replaced.set(key, GONE);
        size--;
      }
    }
    for (const [key, value] of set) {
      if (added.has(key)) added.set(key, value);
      else if (this.#base.has(key) && replaced.get(key) !== GONE) replaced.set(key, value);
      else {
        added.set(key, value);
        size++;
      }
    }
    if (replaced.size + added.size > Math.max(MIN_LAYER, this.#base.size / LAYER_SHARE)) {
      return ImmutableMap.adopt(new Map(layeredEntries(this.#base, replaced, added)));
    }
    return new ImmutableMap<K, V>([], { token: INTERNAL, base: this.#base, replaced: replaced.size > 0 ? replaced : null, added: added.size > 0 ? added : null, size });
  }

  /**
   * The keys whose entries may differ between this map and `other`, when one was derived from
   * the other (or both from one map) since the last fold: the keys of both layers, so a few
   * after a change to one service. Null when they share nothing (then compare every entry).
   */
  differingKeys(other: ReadonlyMap<K, V>): Set<K> | null {
    if (!(other instanceof ImmutableMap) || other.#base !== this.#base) return null;
    const keys = new Set<K>();
    for (const layer of [this.#replaced, this.#added, other.#replaced, other.#added]) if (layer !== null) for (const key of layer.keys()) keys.add(key);
    return keys;
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[K, V]> {
    if (this.#replaced === null && this.#added === null) return this.#base.entries();
    return layeredEntries(this.#base, this.#replaced, this.#added) as MapIterator<[K, V]>;
  }

  keys(): MapIterator<K> {
    if (this.#replaced === null && this.#added === null) return this.#base.keys();
    return mapIterator(this.entries(), ([key]) => key);
  }

  values(): MapIterator<V> {
    if (this.#replaced === null && this.#added === null) return this.#base.values();
    return mapIterator(this.entries(), ([, value]) => value);
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'ImmutableMap';
  }
}

function* layeredEntries<K, V>(base: Map<K, V>, replaced: Map<K, V | typeof GONE> | null, added: Map<K, V> | null): Generator<[K, V], undefined> {
  for (const entry of base) {
    if (replaced !== null && replaced.has(entry[0])) {
      const value = replaced.get(entry[0]);
      if (value !== GONE) yield [entry[0], value as V];
    } else yield entry;
  }
  if (added !== null) yield* added;
  return undefined;
}

function* mapIteratorGen<T, U>(from: Iterator<T>, fn: (item: T) => U): Generator<U, undefined> {
  for (let step = from.next(); step.done !== true; step = from.next()) yield fn(step.value);
  return undefined;
}

function mapIterator<T, U>(from: Iterator<T>, fn: (item: T) => U): MapIterator<U> {
  return mapIteratorGen(from, fn) as MapIterator<U>;
}
