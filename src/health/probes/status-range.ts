/**
 * Expected HTTP status codes, written as a comma-separated list of codes, ranges and classes:
 * '200-399', '200,204', '2xx,301', '200-299, 304'. Codes are 100-599.
 */
export type StatusRange = readonly [low: number, high: number];

export const DEFAULT_EXPECTED_STATUS = '200-399';
const MAX_ITEMS = 32;

/** Throws an Error naming the bad item; use it to validate configuration. */
export function parseStatusRanges(spec: string): readonly StatusRange[] {
  if (typeof spec !== 'string' || spec.trim() === '') throw new Error('expected status: empty');
  const items = spec.split(',').map((item) => item.trim());
  if (items.length > MAX_ITEMS) throw new Error(`expected status: more than ${MAX_ITEMS} items`);
  return Object.freeze(items.map((item) => Object.freeze(parseItem(item))));
}

export function statusInRanges(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some(([low, high]) => status >= low && status <= high);
}

function parseItem(item: string): StatusRange {
  let match = /^([1-5])xx$/i.exec(item);
  if (match) {
    const base = Number(match[1]) * 100;
    return [base, base + 99];
  }
  match = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(item);
  if (!match) throw new Error(`expected status: '${item}' is not a code (200), a range (200-399) or a class (2xx)`);
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  for (const code of [low, high]) {
    if (code < 100 || code > 599) throw new Error(`expected status: ${code} is not an HTTP status (100-599)`);
  }
  if (low > high) throw new Error(`expected status: range '${item}' is reversed`);
  return [low, high];
}
