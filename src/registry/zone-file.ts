/**
 * A BIND master file (RFC 1035 §5.1) read into resource records with their line numbers: `$ORIGIN`
 * (absolute or relative to the current origin), `$TTL` (RFC 2308), relative owner names, `@`, a
 * blank owner (the previous one), TTL and class in either order, TTLs with BIND's units (1h30m),
 * parentheses over several lines, `;` comments, quoted strings and `\X` / `\DDD` escapes.
 * `$INCLUDE` (it would read files on the server) and `$GENERATE` are reported, not followed.
 *
 * Pure: text in, records and per-line problems out; nothing here knows the registry. npm's zone
 * file parsers were checked first (README, Dependencies): none reads SVCB/HTTPS, TLSA or NAPTR or
 * says on which line a record was.
 */

/** One field of a record: `raw` as written (quotes and escapes kept), `text` without the quotes. */
export interface ZoneToken {
  readonly raw: string;
  readonly text: string;
  readonly quoted: boolean;
}

export interface ZoneFileRecord {
  /** Line on which the record starts (1-based). */
  readonly line: number;
  /** Owner, absolute, lower case, without the trailing dot. */
  readonly owner: string;
  /** TTL from the record, else $TTL, else the previous record's; null when none is known. */
  readonly ttl: number | null;
  readonly type: string;
  readonly rdata: readonly ZoneToken[];
  /** The origin in force on that line (for relative names inside the RDATA). */
  readonly origin: string;
}

export interface ZoneFileProblem {
  readonly line: number;
  readonly rule: string;
  readonly message: string;
}

const CLASSES = new Set(['IN', 'CH', 'HS', 'CS', 'ANY']);

/** Seconds of a TTL: plain digits, or BIND units (1w2d3h4m5s). null when not a TTL. */
export function parseTtl(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[wdhms])+$/i.test(text)) return null;
  const unit: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, n, u] of text.matchAll(/(\d+)([wdhms])/gi)) total += Number(n) * unit[u.toLowerCase()];
  return total;
}

/** A name of the file made absolute: '@' is the origin, a name without the final dot is relative to it. */
export function absoluteName(name: string, origin: string): string {
  if (name === '@') return origin;
  if (name.endsWith('.')) return name.slice(0, -1).toLowerCase();
  return (origin === '' ? name : `${name}.${origin}`).toLowerCase();
}

/** Logical lines: each a list of tokens, with the physical line it starts on and whether it starts with blank space. */
function logicalLines(text: string, problems: ZoneFileProblem[]): { line: number; indented: boolean; tokens: ZoneToken[] }[] {
  const out: { line: number; indented: boolean; tokens: ZoneToken[] }[] = [];
  let line = 1;
  let i = 0;
  let depth = 0;
  let current: { line: number; indented: boolean; tokens: ZoneToken[] } | null = null;
  const n = text.length;
  const begin = (): { line: number; indented: boolean; tokens: ZoneToken[] } => {
    if (current === null) {
      const start = text.lastIndexOf('\n', i - 1) + 1;
      current = { line, indented: start < n && (text[start] === ' ' || text[start] === '\t') && i > start, tokens: [] };
    }
    return current;
  };
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
      if (depth === 0 && current !== null) {
        out.push(current);
        current = null;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === ';') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '(') {
      begin();
      depth++;
      i++;
      continue;
    }
    if (c === ')') {
      if (depth === 0) problems.push({ line, rule: 'parentheses', message: 'a ")" without a matching "("' });
      else depth--;
      i++;
      continue;
    }
    const target = begin();
    let raw = '';
    let plain = '';
    let quoted = false;
    while (i < n) {
      const ch = text[i];
      if (ch === '"') {
        quoted = true;
        raw += ch;
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\n') line++;
          if (text[i] === '\\' && i + 1 < n) {
            raw += text[i] + text[i + 1];
            plain += text[i] + text[i + 1];
            i += 2;
            continue;
          }
          raw += text[i];
          plain += text[i];
          i++;
        }
        if (i >= n) {
          problems.push({ line, rule: 'quote', message: 'a quoted string is not closed' });
          break;
        }
        raw += '"';
        i++;
        continue;
      }
      if (ch === '\\' && i + 1 < n) {
        raw += ch + text[i + 1];
        plain += ch + text[i + 1];
        i += 2;
        continue;
      }
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === ';' || ch === '(' || ch === ')') break;
      raw += ch;
      plain += ch;
      i++;
    }
    target.tokens.push({ raw, text: plain, quoted });
  }
  if (depth > 0) problems.push({ line, rule: 'parentheses', message: 'a "(" is not closed before the end of the file' });
  if (current !== null) out.push(current);
  return out;
}

/** Reads `text` with `origin` (the zone) as the initial $ORIGIN. */
export function parseZoneFile(text: string, origin: string): { records: ZoneFileRecord[]; problems: ZoneFileProblem[] } {
  const problems: ZoneFileProblem[] = [];
  const records: ZoneFileRecord[] = [];
  let currentOrigin = origin.toLowerCase().replace(/\.$/, '');
  let defaultTtl: number | null = null;
  let lastTtl: number | null = null;
  let lastOwner: string | null = null;
  for (const { line, indented, tokens } of logicalLines(text, problems)) {
    if (tokens.length === 0) continue;
    const first = tokens[0].text;
    if (!indented && first.startsWith('$')) {
      const directive = first.toUpperCase();
      if (directive === '$ORIGIN' && tokens.length === 2) {
        currentOrigin = absoluteName(tokens[1].text, currentOrigin);
      } else if (directive === '$TTL' && tokens.length === 2 && parseTtl(tokens[1].text) !== null) {
        defaultTtl = parseTtl(tokens[1].text);
      } else if (directive === '$INCLUDE' || directive === '$GENERATE') {
        problems.push({ line, rule: 'directive', message: `${directive} is not supported: import one file with every record in it` });
      } else {
        problems.push({ line, rule: 'directive', message: `"${tokens.map((t) => t.raw).join(' ')}" is not a valid $ORIGIN, $TTL or other directive` });
      }
      continue;
    }
    let k = 0;
    let owner: string;
    if (indented) {
      if (lastOwner === null) {
        problems.push({ line, rule: 'owner', message: 'the first record has no owner name' });
        continue;
      }
      owner = lastOwner;
    } else {
      owner = absoluteName(tokens[0].text, currentOrigin);
      k = 1;
    }
    lastOwner = owner;
    let ttl: number | null = null;
    let klass: string | null = null;
    for (let step = 0; step < 2 && k < tokens.length; step++) {
      const t = tokens[k].text;
      const asTtl = tokens[k].quoted ? null : parseTtl(t);
      if (ttl === null && asTtl !== null) {
        ttl = asTtl;
        k++;
      } else if (klass === null && (CLASSES.has(t.toUpperCase()) || /^CLASS\d+$/i.test(t))) {
        klass = t.toUpperCase();
        k++;
      }
    }
    if (k >= tokens.length) {
      problems.push({ line, rule: 'type', message: 'the record has no type' });
      continue;
    }
    if (klass !== null && klass !== 'IN') {
      problems.push({ line, rule: 'class', message: `class ${klass} is not served: only IN records can be imported` });
      continue;
    }
    const type = tokens[k].text.toUpperCase();
    if (ttl !== null) lastTtl = ttl;
    records.push({ line, owner, ttl: ttl ?? defaultTtl ?? lastTtl, type, rdata: tokens.slice(k + 1), origin: currentOrigin });
  }
  return { records, problems };
}
