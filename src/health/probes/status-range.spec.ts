import { parseStatusRanges, statusInRanges } from './status-range';

describe('parseStatusRanges', () => {
  it.each([
    ['200-399', [[200, 399]]],
    ['200,204', [[200, 200], [204, 204]]],
    ['200-299, 304', [[200, 299], [304, 304]]],
    ['2xx,301', [[200, 299], [301, 301]]],
    ['5XX', [[500, 599]]],
    [' 200 - 204 ', [[200, 204]]],
    ['100-599', [[100, 599]]],
  ])('%j -> %j', (spec, expected) => {
    expect(parseStatusRanges(spec)).toEqual(expected);
  });

  it.each([
    ['', 'expected status: empty'],
    ['   ', 'expected status: empty'],
    ['200-', "'200-' is not a code"],
    ['abc', "'abc' is not a code"],
    ['200,,204', "'' is not a code"],
    ['2000', "'2000' is not a code"],
    ['99', "'99' is not a code"],
    ['600', '600 is not an HTTP status'],
    ['099-200', '99 is not an HTTP status'],
    ['399-200', "range '399-200' is reversed"],
    ['6xx', "'6xx' is not a code"],
    [Array.from({ length: 33 }, () => '200').join(','), 'more than 32 items'],
  ])('rejects %j', (spec, message) => {
    expect(() => parseStatusRanges(spec)).toThrow(message);
  });
});

describe('statusInRanges', () => {
  const ranges = parseStatusRanges('200-299,304');
  it.each([
    [199, false],
    [200, true],
    [299, true],
    [300, false],
    [304, true],
    [503, false],
  ])('%d -> %s', (status, expected) => {
    expect(statusInRanges(status, ranges)).toBe(expected);
  });
});
