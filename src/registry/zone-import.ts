/**
 * What importing a master file into a zone means, as a pure plan: the zone's SOA fields and
 * nameservers (from the SOA and the apex NS records), and its static record sets, each checked by
 * the same rules as the API (record-values.ts, the CNAME and DS rules, names that services own),
 * with every problem tied to its line. The service (zone-import.service.ts) writes the plan.
 */
import { checkDomainName, isInZone, normalizeName } from '../common/dns-name';
import { RECORD_TYPES } from './dto/zone.dto';
import { placementProblem } from './modern-record-values';
import { normalizeRecordValues } from './record-values';
import { absoluteName, parseTtl, parseZoneFile, type ZoneFileProblem, type ZoneFileRecord, type ZoneToken } from './zone-file';

export interface ImportedZoneFields {
  nameservers: string[];
  hostmaster: string;
  ttl: number;
  refresh: number;
  retry: number;
  expire: number;
  negativeTtl: number;
}

export interface ImportedRecordSet {
  /** Absolute, lower case, no trailing dot. */
  name: string;
  type: string;
  ttl: number;
  values: string[];
  /** Lines of the file the set came from. */
  lines: number[];
}

export interface ZoneImportPlan {
  /** From the SOA and apex NS; null when the file has no SOA. */
  zone: ImportedZoneFields | null;
  records: ImportedRecordSet[];
  /** Lines that could not be taken, each with its rule (`--skip-invalid` leaves them out). */
  problems: ZoneFileProblem[];
}

/** The bounds the zone DTO enforces (dto/zone.dto.ts). */
const ZONE_BOUNDS = { ttl: [60, 86400], refresh: [60, 86400], retry: [60, 86400], expire: [3600, 2419200], negativeTtl: [0, 86400] } as const;
const RECORD_TTL = [1, 86400] as const;
/** Types a service's routing answers own at its name and its write name. */
const SERVICE_TYPES = new Set(['A', 'AAAA', 'CNAME']);

/** Where each RDATA type keeps a domain name (field index), for qualifying relative names. */
const NAME_FIELDS: Readonly<Record<string, readonly number[]>> = {
  CNAME: [0],
  NS: [0],
  PTR: [0],
  MX: [1],
  SRV: [3],
  SVCB: [1],
  HTTPS: [1],
  NAPTR: [5],
};

export function planZoneImport(text: string, zone: string, serviceNames: ReadonlySet<string>): ZoneImportPlan {
  const { records, problems } = parseZoneFile(text, zone);
  const bad = (line: number, rule: string, message: string): void => {
    problems.push({ line, rule, message });
  };
  let fields: ImportedZoneFields | null = null;
  const nameservers: string[] = [];
  const sets = new Map<string, ImportedRecordSet>();
  const typesAt = new Map<string, Set<string>>();
  const taken: ZoneFileRecord[] = [];

  for (const r of records) {
    if (!isInZone(r.owner, zone)) {
      bad(r.line, 'in-zone', `${r.owner} is outside the zone ${zone}`);
      continue;
    }
    if (r.type === 'SOA') {
      if (r.owner !== zone) bad(r.line, 'soa', 'an SOA record stands only at the zone apex');
      else if (fields !== null) bad(r.line, 'soa', 'a second SOA record');
      else fields = soaFields(r, bad);
      continue;
    }
    if (r.type === 'NS' && r.owner === zone) {
      const ns = qualified(r)[0];
      const problem = ns === undefined ? 'needs a name' : checkDomainName(ns);
      if (problem !== null) bad(r.line, 'domain-name', `apex NS ${problem}`);
      else nameservers.push(normalizeName(ns));
      continue;
    }
    if (!(RECORD_TYPES as readonly string[]).includes(r.type)) {
      bad(r.line, 'unsupported-type', `type ${r.type} is not supported (supported: SOA, ${RECORD_TYPES.join(', ')})`);
      continue;
    }
    const ownerProblem = checkDomainName(r.owner, { allowWildcard: true, allowUnderscore: true });
    if (ownerProblem !== null) {
      bad(r.line, 'domain-name', `owner ${r.owner}: ${ownerProblem}`);
      continue;
    }
    if (r.ttl === null) {
      bad(r.line, 'ttl', 'no TTL: give one on the record or a $TTL line before it');
      continue;
    }
    if (r.ttl < RECORD_TTL[0] || r.ttl > RECORD_TTL[1]) {
      bad(r.line, 'ttl', `TTL ${r.ttl} is outside ${RECORD_TTL[0]}-${RECORD_TTL[1]} seconds`);
      continue;
    }
    if (SERVICE_TYPES.has(r.type) && serviceNames.has(r.owner)) {
      bad(r.line, 'service-name', `${r.owner} is a routed service: its A, AAAA and CNAME answers come from the routing engine`);
      continue;
    }
    const value = r.type === 'TXT' ? txtValue(r.rdata) : qualified(r).join(' ');
    const checked = normalizeRecordValues(r.type, [value]);
    if (checked.problems.length > 0) {
      const p = checked.problems[0];
      bad(r.line, p.rule, `${r.type} ${p.message}`);
      continue;
    }
    const key = `${r.owner}\u0000${r.type}`;
    let set = sets.get(key);
    if (set === undefined) {
      set = { name: r.owner, type: r.type, ttl: r.ttl, values: [], lines: [] };
      sets.set(key, set);
    } else if (set.ttl !== r.ttl) {
      bad(r.line, 'ttl-mismatch', `TTL ${r.ttl} differs from ${set.ttl} of the same ${r.type} record set (line ${set.lines[0]}); RFC 2181 §5.2`);
      continue;
    }
    if (!set.values.includes(checked.values[0])) set.values.push(checked.values[0]);
    set.lines.push(r.line);
    if (!typesAt.has(r.owner)) typesAt.set(r.owner, new Set());
    typesAt.get(r.owner)!.add(r.type);
    taken.push(r);
  }

  // Rules between record sets: CNAME alone and never at the apex; DS only at a delegation point.
  const refused = new Set<ImportedRecordSet>();
  for (const set of sets.values()) {
    const types = [...typesAt.get(set.name)!];
    let problem: string | null = null;
    let rule = '';
    if (set.type === 'CNAME' && set.name === zone) [rule, problem] = ['cname-apex', 'a CNAME cannot be at the zone apex (RFC 1034 §3.6.2)'];
    else if (set.type === 'CNAME' && set.values.length > 1) [rule, problem] = ['cname-single', 'a CNAME record set has exactly one value (RFC 1034 §3.6.2)'];
    else if (types.includes('CNAME') && types.length > 1) [rule, problem] = ['cname-exclusive', `${set.name} has a CNAME beside ${types.filter((t) => t !== 'CNAME').join(', ')} (RFC 2181 §10.1)`];
    else {
      const placement = placementProblem(set.type, set.name, zone, types);
      if (placement !== null) [rule, problem] = [placement.rule, placement.message];
    }
    if (problem !== null) {
      for (const line of set.lines) bad(line, rule, problem);
      refused.add(set);
    }
  }
  if (fields !== null) {
    if (nameservers.length === 0) bad(0, 'nameservers', 'the apex has no NS record');
    else if (nameservers.length > 13) bad(0, 'nameservers', 'at most 13 apex NS records');
    fields.nameservers = [...new Set(nameservers)];
  }
  problems.sort((a, b) => a.line - b.line);
  return { zone: fields, records: [...sets.values()].filter((s) => !refused.has(s)), problems };
}

/** The RDATA's fields as written, with the names at the type's name positions made absolute. */
function qualified(r: ZoneFileRecord): string[] {
  const positions = NAME_FIELDS[r.type] ?? [];
  return r.rdata.map((t, i) => {
    if (!positions.includes(i) || t.quoted || t.raw === '.') return t.raw;
    return `${absoluteName(t.raw, r.origin)}.`;
  });
}

/**
 * TXT character-strings as the registry stores them: one text when they are the 255-octet pieces
 * of one (how the BIND export splits a long value), else the quoted-strings form ('"a" "b"').
 */
function txtValue(tokens: readonly ZoneToken[]): string {
  const strings = tokens.map((t) => unescapeText(t.text));
  const joined = strings.every((s, i) => i === strings.length - 1 || s.length === 255);
  if (joined) return Buffer.concat(strings).toString('utf8');
  return strings.map((s) => `"${s.toString('utf8').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(' ');
}

function unescapeText(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) {
      const digits = /^\d{3}/.exec(text.slice(i + 1, i + 4));
      if (digits !== null) {
        bytes.push(Number(digits[0]) & 0xff);
        i += 3;
      } else {
        bytes.push(...Buffer.from(text[i + 1], 'utf8'));
        i += 1;
      }
      continue;
    }
    bytes.push(...Buffer.from(text[i], 'utf8'));
  }
  return Buffer.from(bytes);
}

function soaFields(r: ZoneFileRecord, bad: (line: number, rule: string, message: string) => void): ImportedZoneFields | null {
  const f = r.rdata.map((t) => t.text);
  if (f.length !== 7) {
    bad(r.line, 'soa', 'SOA must be "<mname> <rname> <serial> <refresh> <retry> <expire> <minimum>"');
    return null;
  }
  const hostmaster = absoluteName(f[1], r.origin);
  const problem = checkDomainName(hostmaster);
  if (problem !== null) {
    bad(r.line, 'soa', `RNAME ${hostmaster}: ${problem}`);
    return null;
  }
  const numbers = f.slice(3).map((x) => parseTtl(x));
  const out = { ttl: r.ttl ?? numbers[3] ?? 0, refresh: numbers[0], retry: numbers[1], expire: numbers[2], negativeTtl: numbers[3] };
  for (const [k, [min, max]] of Object.entries(ZONE_BOUNDS)) {
    const v = out[k as keyof typeof out];
    if (v === null || v < min || v > max) {
      bad(r.line, 'soa', `${k === 'ttl' ? 'SOA TTL' : `SOA ${k}`} must be ${min}-${max} seconds (got ${v ?? 'not a number'})`);
      return null;
    }
  }
  return { nameservers: [], hostmaster, ttl: out.ttl, refresh: out.refresh!, retry: out.retry!, expire: out.expire!, negativeTtl: out.negativeTtl! };
}
