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

function parseLine(builder: TopologyBuilder, line: string, lineNo: number): void {
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
