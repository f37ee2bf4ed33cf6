import * as fc from 'fast-check';
import { ImmutableMap } from './immutable-map';

/** One derive step: keys deleted, then entries set (keys from a small range, so they collide). */
const step = fc.record({
  remove: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 8 }),
  set: fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer()), { maxLength: 8 }),
});

describe('ImmutableMap', () => {
  it.each([
    ['empty', [], [], [], []],
    ['replace keeps the place', [[1, 'a'], [2, 'b']], [], [[1, 'c']], [[1, 'c'], [2, 'b']]],
    ['a new key comes last', [[1, 'a']], [], [[3, 'x']], [[1, 'a'], [3, 'x']]],
    ['deleted, then set again: last', [[1, 'a'], [2, 'b']], [1], [[1, 'z']], [[2, 'b'], [1, 'z']]],
    ['deleting an absent key changes nothing', [[1, 'a']], [9], [], [[1, 'a']]],
  ] as [string, [number, string][], number[], [number, string][], [number, string][]][])('derive: %s', (_name, start, remove, set, expected) => {
    const base = new ImmutableMap(start);
    const next = base.derive(set, remove);
    expect([...next]).toEqual(expected);
    expect(next.size).toBe(expected.length);
    expect([...base]).toEqual(start);
  });

  it('any chain of derives reads like a Map given the same deletes and sets, and leaves each earlier map as it was', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer()), { maxLength: 400 }), fc.array(step, { maxLength: 40 }), (start, steps) => {
        let map = new ImmutableMap(start);
        const model = new Map(start);
        const earlier: [ImmutableMap<number, number>, [number, number][]][] = [];
        for (const { remove, set } of steps) {
          earlier.push([map, [...model]]);
          map = map.derive(set, remove);
          for (const k of remove) model.delete(k);
          for (const [k, v] of set) model.set(k, v);
          expect(map.size).toBe(model.size);
        }
        expect([...map.entries()]).toEqual([...model.entries()]);
        expect([...map.keys()]).toEqual([...model.keys()]);
        expect([...map.values()]).toEqual([...model.values()]);
        for (let k = 0; k <= 300; k++) {
          expect(map.has(k)).toBe(model.has(k));
          expect(map.get(k)).toBe(model.get(k));
        }
        const seen: [number, number][] = [];
        map.forEach((v, k) => seen.push([k, v]));
        expect(seen).toEqual([...model]);
        for (const [old, entries] of earlier) expect([...old]).toEqual(entries);
      }),
      { numRuns: 100 },
    );
  });

  it('differingKeys: the keys of both layers when the maps share a base, else null', () => {
    const base = new ImmutableMap([[1, 'a'], [2, 'b'], [3, 'c']]);
    const one = base.derive([[2, 'x']]);
    const two = one.derive([[4, 'd']], [1]);
    expect([...two.differingKeys(base)!].sort()).toEqual([1, 2, 4]);
    expect([...two.differingKeys(one)!].sort()).toEqual([1, 2, 4]);
    expect(base.differingKeys(base)).toEqual(new Set());
    expect(base.differingKeys(new Map([[1, 'a']]))).toBeNull();
    expect(one.differingKeys(new ImmutableMap([[1, 'a']]))).toBeNull();
  });

  it('adopt takes the Map as it is, frozen behind the same interface', () => {
    const map = ImmutableMap.adopt(new Map([['a', 1]]));
    expect(map.get('a')).toBe(1);
    expect(Object.isFrozen(map)).toBe(true);
    expect(String(map)).toBe('[object ImmutableMap]');
  });
});
