/**
 * JSON topology:
 *
 *   {
 *     "ases":  [{ "asn": 3356, "latitude": 39.0, "longitude": -77.5, "countryCode": "US" }, ...],
 *     "links": [{ "a": 3356, "b": 64501, "relation": "provider-customer" },   // a is b's provider
 *               { "a": 3356, "b": 1299,  "relation": "peer" }, ...]
 *   }
 *
 * `ases` is optional metadata (location, country): an AS that appears only in `links` exists
 * without it, and an AS listed in `ases` without links exists, partitioned. latitude and
 * longitude come together or not at all. Unknown keys are ignored. Every problem names its JSON
 * path (`links[3]: ...`, `ases[0].latitude: ...`). Throws TopologyError.
 */
import {
  TopologyBuilder,
  TopologyError,
  isValidAsn,
  MAX_ASN,
  type AsAttributes,
  type Relation,
  type Topology,
  type TopologyOptions,
} from './topology';

export interface TopologyJsonLink {
  readonly a: number;
  readonly b: number;
  readonly relation: Relation;
}

export interface TopologyJson {
  readonly ases?: readonly AsAttributes[];
  readonly links: readonly TopologyJsonLink[];
}

const COUNTRY_CODE = /^[A-Za-z]{2}$/;
/** References: ases[i] -> -(i + 1), links[i] -> i. */
const asRef = (i: number) => -(i + 1);

/** Parses a JSON document (string) or an already parsed value (e.g. a request body). */
export function parseTopologyJson(input: string | unknown, options: TopologyOptions = {}): Topology {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (error) {
      throw new TopologyError([{ where: '$', rule: 'format', message: `not valid JSON: ${(error as Error).message}` }]);
    }
  }
  const builder = new TopologyBuilder((ref) => (ref < 0 ? `ases[${-ref - 1}]` : `links[${ref}]`), options);
  if (!isObject(doc)) {
    builder.problem('$', 'format', 'expected an object with "links" (and optionally "ases")');
    return builder.build();
  }
  const { ases, links } = doc;
  if (ases !== undefined && !Array.isArray(ases)) builder.problem('ases', 'format', 'must be an array');
  if (!Array.isArray(links)) builder.problem('links', 'format', 'must be an array');

  if (Array.isArray(ases)) {
    for (let i = 0; i < ases.length && !builder.stopped; i++) {
      const attrs = readAs(builder, ases[i], `ases[${i}]`);
      if (attrs) builder.addAs(attrs, asRef(i));
    }
  }
  if (Array.isArray(links)) {
    for (let i = 0; i < links.length && !builder.stopped; i++) readLink(builder, links[i], i);
  }
  return builder.build();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readAs(builder: TopologyBuilder, entry: unknown, where: string): AsAttributes | null {
  if (!isObject(entry)) {
    builder.problem(where, 'format', 'expected an object { asn, latitude?, longitude?, countryCode? }');
    return null;
  }
  let ok = true;
  if (!isValidAsn(entry.asn)) {
    builder.problem(`${where}.asn`, 'asn-range', `must be an integer in 1..${MAX_ASN}`);
    ok = false;
  }
  const { latitude, longitude, countryCode } = entry;
  if ((latitude === undefined) !== (longitude === undefined)) {
    builder.problem(where, 'location', 'latitude and longitude come together');
    ok = false;
  }
  if (latitude !== undefined && !inRange(latitude, 90)) {
    builder.problem(`${where}.latitude`, 'location', 'must be a number in -90..90');
    ok = false;
  }
  if (longitude !== undefined && !inRange(longitude, 180)) {
    builder.problem(`${where}.longitude`, 'location', 'must be a number in -180..180');
    ok = false;
  }
  if (countryCode !== undefined && (typeof countryCode !== 'string' || !COUNTRY_CODE.test(countryCode))) {
    builder.problem(`${where}.countryCode`, 'format', 'must be a two-letter ISO 3166-1 code');
    ok = false;
  }
  if (!ok) return null;
  return {
    asn: entry.asn as number,
    ...(latitude !== undefined ? { latitude: latitude as number, longitude: longitude as number } : {}),
    ...(countryCode !== undefined ? { countryCode: (countryCode as string).toUpperCase() } : {}),
  };
}

function inRange(value: unknown, bound: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= -bound && value <= bound;
}

function readLink(builder: TopologyBuilder, entry: unknown, index: number): void {
  const where = `links[${index}]`;
  if (!isObject(entry)) {
    builder.problem(where, 'format', 'expected an object { a, b, relation }');
    return;
  }
  let ok = true;
  for (const side of ['a', 'b'] as const) {
    if (!isValidAsn(entry[side])) {
      builder.problem(`${where}.${side}`, 'asn-range', `must be an integer in 1..${MAX_ASN}`);
      ok = false;
    }
  }
  const relation = entry.relation;
  if (relation !== 'provider-customer' && relation !== 'peer') {
    builder.problem(`${where}.relation`, 'relation', `unknown relation ${JSON.stringify(relation)} (expected "provider-customer" or "peer")`);
    ok = false;
  }
  if (ok) builder.addLink(entry.a as number, entry.b as number, relation as Relation, index);
}
