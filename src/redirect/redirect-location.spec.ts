import { LocationCache, buildLocation } from './redirect-location';

describe('buildLocation', () => {
  it.each([
    ['https://euw.web.test', '/login', { ok: true, location: 'https://euw.web.test/login' }],
    ['https://euw.web.test/', '', { ok: true, location: 'https://euw.web.test/' }],
    ['https://euw.web.test/app/', '/a/b?x=1&y=%20', { ok: true, location: 'https://euw.web.test/app/a/b?x=1&y=%20' }],
    ['https://euw.web.test', '?q=1', { ok: true, location: 'https://euw.web.test/?q=1' }],
    ['https://euw.web.test', '/caf\u00e9', { ok: true, location: 'https://euw.web.test/caf%C3%A9' }],
    ['https://euw.web.test', '/a b', { ok: true, location: 'https://euw.web.test/a%20b' }],
    ['https://euw.web.test/app', '/../admin', { ok: false, status: 400 }],
    ['https://euw.web.test/app', '/%2e%2e/admin', { ok: false, status: 400 }],
    ['https://euw.web.test', '/a%2fb', { ok: false, status: 400 }],
    ['https://euw.web.test', '/a%0d%0aSet-Cookie:x', { ok: false, status: 400 }],
    ['https://euw.web.test', '/%E0%A4%A', { ok: false, status: 400 }],
    ['https://euw.web.test', '/\\evil.test', { ok: true, location: 'https://euw.web.test/%5Cevil.test' }],
    ['https://euw.web.test', `/${'a'.repeat(5000)}`, { ok: false, status: 414 }],
  ])('%s + %j', (base, tail, expected) => {
    expect(buildLocation(base, tail)).toMatchObject(expected);
  });
});

describe('LocationCache', () => {
  const tails = ['/login', '', '/a/b?x=1', '/../admin', '/a%2fb', '/caf\u00e9', '?q=2', '/login'];
  const bases = ['https://euw.web.test', 'https://use.web.test/app/'];

  it('answers as buildLocation does, first time and from memory', () => {
    const cache = new LocationCache();
    for (let round = 0; round < 2; round++) {
      for (const base of bases) for (const tail of tails) expect(cache.build(base, tail)).toEqual(buildLocation(base, tail));
    }
  });

  it('keeps a bounded number of tails per base URL and still answers past it', () => {
    const cache = new LocationCache(16);
    for (let i = 0; i < 100; i++) expect(cache.build('https://euw.web.test', `/p${i}`)).toEqual({ ok: true, location: `https://euw.web.test/p${i}` });
    expect(cache.build('https://euw.web.test', '/p3')).toEqual({ ok: true, location: 'https://euw.web.test/p3' });
  });
});
