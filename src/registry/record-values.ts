import { checkDomainName, normalizeName } from '../common/dns-name';
import { checkEndpointIpv4, checkEndpointIpv6, canonicalIp } from '../common/ip';
import { FieldProblem } from '../common/domain-error';
import { isModernRecordType } from '../common/modern-records';
import { normalizeModernValue } from './modern-record-values';

/**
 * Checks and normalises the values of one static record set, by type. Returns the normalised
 * values or the problems found (field paths relative to the request body).
 */
export function normalizeRecordValues(type: string, values: string[]): { values: string[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const out: string[] = [];
  const bad = (i: number, rule: string, message: string) => problems.push({ field: `values[${i}]`, rule, message });
  values.forEach((raw, i) => {
    const v = raw.trim();
    switch (type) {
      case 'A': {
        const p = checkEndpointIpv4(v);
        if (p) bad(i, 'ipv4', p);
        else out.push(canonicalIp(v));
        break;
      }
      case 'AAAA': {
        const p = checkEndpointIpv6(v);
        if (p) bad(i, 'ipv6', p);
        else out.push(canonicalIp(v));
        break;
      }
      case 'CNAME':
      case 'NS': {
        const p = checkDomainName(v, { allowUnderscore: type === 'CNAME' });
        if (p) bad(i, 'domain-name', `must be a domain name: ${p}`);
        else out.push(normalizeName(v));
        break;
      }
      case 'MX': {
        const m = /^(\d{1,5})\s+(\S+)$/.exec(v);
        if (!m || Number(m[1]) > 65535) bad(i, 'mx', 'must be "<preference 0-65535> <exchange>", e.g. "10 mail.example.com"');
        else if (checkDomainName(m[2]) !== null && m[2] !== '.') bad(i, 'mx', `exchange "${m[2]}" is not a valid domain name`);
        else out.push(`${Number(m[1])} ${normalizeName(m[2])}`);
        break;
      }
      case 'TXT': {
        if (v.length === 0 && raw.length === 0) bad(i, 'txt', 'must not be empty');
        else if (Buffer.byteLength(raw, 'utf8') > 4000) bad(i, 'txt', 'must be at most 4000 bytes');
        else out.push(raw);
        break;
      }
      case 'CAA': {
        const m = /^(\d{1,3})\s+([A-Za-z0-9]{1,15})\s+"([^"]*)"$/.exec(v);
        if (!m || Number(m[1]) > 255) bad(i, 'caa', 'must be \'<flags 0-255> <tag> "<value>"\', e.g. \'0 issue "letsencrypt.org"\'');
        else out.push(`${Number(m[1])} ${m[2].toLowerCase()} "${m[3]}"`);
        break;
      }
      default: {
        if (!isModernRecordType(type)) {
          bad(i, 'type', `unsupported record type ${type}`);
          break;
        }
        const r = normalizeModernValue(type, raw);
        if ('problem' in r) bad(i, r.problem.rule, r.problem.message);
        else out.push(r.value);
      }
    }
  });
  if (type === 'CNAME' && values.length > 1) {
    problems.push({ field: 'values', rule: 'cname-single', message: 'a CNAME record set has exactly one value (RFC 1034 §3.6.2)' });
  }
  return { values: out, problems };
}
