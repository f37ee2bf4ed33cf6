import { cnameLoop } from './cname-loop';

describe('cnameLoop', () => {
  const zone = (pairs: [string, string][]) => new Map(pairs);
  it.each([
    ['points at itself', 'a.example.com', 'a.example.com', [], ['a.example.com', 'a.example.com']],
    ['two names', 'a.example.com', 'b.example.com', [['b.example.com', 'a.example.com']], ['a.example.com', 'b.example.com', 'a.example.com']],
    ['three names', 'a.example.com', 'b.example.com', [['b.example.com', 'c.example.com'], ['c.example.com', 'a.example.com']], ['a.example.com', 'b.example.com', 'c.example.com', 'a.example.com']],
    ['a chain that ends in data', 'a.example.com', 'b.example.com', [['b.example.com', 'c.example.com']], null],
    ['a target outside the zone', 'a.example.com', 'cdn.example.net', [['b.example.com', 'a.example.com']], null],
    ['a chain into an older loop not through owner', 'a.example.com', 'b.example.com', [['b.example.com', 'c.example.com'], ['c.example.com', 'b.example.com']], null],
  ] as [string, string, string, [string, string][], string[] | null][])('%s', (_label, owner, target, existing, expected) => {
    expect(cnameLoop(owner, target, zone(existing))).toEqual(expected);
  });
});
