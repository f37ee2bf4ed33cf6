import { grants, isScope, type Scope } from './scopes';

describe('grants: which scopes open which routes', () => {
  it.each<[Scope[], Scope, boolean]>([
    [['read'], 'read', true],
    [['read'], 'write', false],
    [['read'], 'admin', false],
    [['read'], 'health:report', false],
    [['write'], 'read', true],
    [['write'], 'write', true],
    [['write'], 'admin', false],
    [['write'], 'health:report', false],
    [['health:report'], 'health:report', true],
    [['health:report'], 'read', false],
    [['admin'], 'read', true],
    [['admin'], 'write', true],
    [['admin'], 'health:report', true],
    [['admin'], 'admin', true],
    [['read', 'health:report'], 'health:report', true],
    [['read', 'health:report'], 'write', false],
    [[], 'read', false],
  ])('%j needs %s: %s', (held, needed, expected) => {
    expect(grants(held, needed)).toBe(expected);
  });

  it.each([['read', true], ['admin', true], ['health:report', true], ['Read', false], ['root', false], [1, false], [null, false]])('isScope(%j) is %s', (v, expected) => {
    expect(isScope(v)).toBe(expected);
  });
});
