/**
 * CAIDA AS-relationship text (as-rel / as-rel2):
 *
 *   # comment lines start with '#'
 *   <provider-as>|<customer-as>|-1            serial-1
 *   <peer-as>|<peer-as>|0
 *   <provider-as>|<customer-as>|-1|<source>   serial-2 (the source, e.g. "bgp" or "mlp", is ignored)
 *
 * Blank lines are skipped; CRLF is accepted. Every problem names its line (`line 12: ...`);
 * reading stops at a size limit. Throws TopologyError.
 */
import { TopologyBuilder, isValidAsn, MAX_ASN, type Topology, type TopologyOptions } from './topology';

const DIGITS = /^\d{1,10}$/;

export function parseCaidaAsRel(text: string, options: TopologyOptions = {}): Topology {
  const builder = new TopologyBuilder((line) => `line ${line}`, options);
  let start = 0;
  let lineNo = 0;
  while (start <= text.length && !builder.stopped) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const raw = text.slice(start, end);
    start = end + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1).trim() : raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    parseLine(builder, line, lineNo);
  }
  return builder.build();
}

/**
 * Fast path for a well-formed line (digits|digits|-1 or 0, optionally |source): no splitting or
 * regular expressions. Returns false to let `parseLine` handle (and explain) anything else.
 */
function parseWellFormed(builder: TopologyBuilder, line: string, lineNo: number): boolean {
  const len = line.length;
  let i = 0;
  let a = 0;
  let digits = 0;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) {
    a = a * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || digits > 10 || line.charCodeAt(i) !== 124) return false;
  i++;
  let b = 0;
  digits = 0;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i)) {
    b = b * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || digits > 10 || line.charCodeAt(i) !== 124) return false;
  i++;
  let peer: boolean;
  if (line.charCodeAt(i) === 48) {
    peer = true;
    i++;
  } else if (line.charCodeAt(i) === 45 && line.charCodeAt(i + 1) === 49) {
    peer = false;
    i += 2;
  } else {
    return false;
  }
  if (i < len && (line.charCodeAt(i) !== 124 || line.indexOf('|', i + 1) >= 0)) return false;
  if (!isValidAsn(a) || !isValidAsn(b)) return false;
  builder.addLink(a, b, peer ? 'peer' : 'provider-customer', lineNo);
  return true;
}

function parseLine(builder: TopologyBuilder, line: string, lineNo: number): void {
  if (parseWellFormed(builder, line, lineNo)) return;
  const where = `line ${lineNo}`;
  const fields = line.split('|');
  if (fields.length !== 3 && fields.length !== 4) {
    builder.problem(where, 'format', `expected a|b|relation or a|b|relation|source, got ${fields.length} field(s)`);
    return;
  }
  const a = parseAsn(builder, fields[0], where);
  const b = parseAsn(builder, fields[1], where);
  const relation = fields[2].trim();
  let ok = a !== null && b !== null;
  if (relation !== '-1' && relation !== '0') {
    builder.problem(where, 'relation', `unknown relation '${relation}' (expected -1 provider-customer or 0 peer)`);
    ok = false;
  }
  if (!ok || a === null || b === null) return;
  builder.addLink(a, b, relation === '-1' ? 'provider-customer' : 'peer', lineNo);
}

function parseAsn(builder: TopologyBuilder, field: string, where: string): number | null {
  const text = field.trim();
  const value = DIGITS.test(text) ? Number(text) : NaN;
  if (!isValidAsn(value)) {
    builder.problem(where, 'asn-range', `ASN '${text}' is not an integer in 1..${MAX_ASN}`);
    return null;
  }
  return value;
}
