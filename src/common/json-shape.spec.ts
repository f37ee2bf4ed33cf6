import { jsonShapeProblems, MAX_JSON_DEPTH } from './json-shape';

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
};

describe('jsonShapeProblems', () => {
  it.each([
    ['a scalar', 'x', []],
    ['a flat object', { name: 'a', values: ['1'] }, []],
    ['nesting at the limit', nested(MAX_JSON_DEPTH), []],
    ['one level over the limit', nested(MAX_JSON_DEPTH + 1), [{ field: 'body', rule: 'depth', message: 'is nested more than 400 levels deep' }]],
    ['10,000 levels', nested(10_000), [{ field: 'body', rule: 'depth', message: 'is nested more than 400 levels deep' }]],
    ['__proto__ at the top', JSON.parse('{"name":"a","__proto__":{"admin":true}}'), [{ field: '__proto__', rule: 'unknown-field', message: 'is not a known field' }]],
    ['constructor nested', { endpoints: { constructor: { prototype: 1 } } }, [{ field: 'endpoints.constructor', rule: 'unknown-field', message: 'is not a known field' }]],
    ['prototype in an array item', { items: [{}, { prototype: 1 }] }, [{ field: 'items[1].prototype', rule: 'unknown-field', message: 'is not a known field' }]],
    ['a value named like a key is fine', { name: '__proto__' }, []],
  ])('%s', (_label, body, expected) => {
    expect(jsonShapeProblems(body)).toEqual(expected);
  });
});
