import { hashSecret, newToken, parseToken, verifySecret } from './token-secret';

describe('API token secrets', () => {
  it('a new token parses to its id, and only its secret matches the stored hash', async () => {
    const t = await newToken();
    expect(t.token).toMatch(/^grt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseToken(t.token)!;
    expect(parsed.id).toBe(t.id);
    expect(t.secretHash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(t.secretHash).not.toContain(parsed.secret);
    expect(await verifySecret(parsed.secret, t.secretHash)).toBe(true);
    const other = parseToken((await newToken()).token)!;
    expect(await verifySecret(other.secret, t.secretHash)).toBe(false);
  });

  it('the same secret hashes differently with another salt', async () => {
    const secret = 'A'.repeat(43);
    const [a, b] = [await hashSecret(secret), await hashSecret(secret)];
    expect(a).not.toBe(b);
    expect(await verifySecret(secret, a)).toBe(true);
    expect(await verifySecret(secret, b)).toBe(true);
  });

  it.each([
    ['', null],
    ['grt_', null],
    ['test-admin-token-0123456789abcdef', null],
    [`grt_0123456789abcdeg_${'a'.repeat(43)}`, null],
    [`grt_0123456789abcdef_${'a'.repeat(42)}`, null],
    [`grt_0123456789abcdef_${'a'.repeat(43)} `, null],
    [`grt_0123456789abcdef_${'a'.repeat(43)}`, { id: '0123456789abcdef', secret: 'a'.repeat(43) }],
  ])('parseToken(%j)', (token, expected) => {
    expect(parseToken(token)).toEqual(expected);
  });

  it.each(['', 'bcrypt$x', 'scrypt$16384$8$1$salt', 'scrypt$x$8$1$c2FsdA$aGFzaA', 'scrypt$16384$8$1$c2FsdA$c2hvcnQ'])('a malformed stored hash %j never matches', async (stored) => {
    expect(await verifySecret('a'.repeat(43), stored)).toBe(false);
  });
});
