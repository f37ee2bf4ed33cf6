import { FieldProblem } from '../common/domain-error';
import { RdataError, canonicalModernValue, type ModernRecordType } from '../common/modern-records';

/**
 * One value of SRV, HTTPS, SVCB, TLSA, PTR, NAPTR or DS, checked and written in canonical form
 * (common/modern-records.ts): names lower case without the trailing dot, SvcParams sorted by key,
 * hex in upper case. A value that does not parse gives the rule and a message naming the part.
 */
export function normalizeModernValue(type: ModernRecordType, raw: string): { value: string } | { problem: Omit<FieldProblem, 'field'> } {
  try {
    return { value: canonicalModernValue(type, raw.trim()) };
  } catch (error) {
    if (error instanceof RdataError) return { problem: { rule: error.rule, message: `${type} value ${error.message}` } };
    throw error;
  }
}

/**
 * Rules that depend on where a record stands: DS belongs to the parent side of a delegation
 * (RFC 4035 §2.4), never at the zone apex, and only at a name that has (or gets in the same
 * request) an NS record set. Returns the problem or null.
 */
export function placementProblem(type: string, fqdn: string, zone: string, typesAtName: readonly string[]): FieldProblem | null {
  if (type !== 'DS') return null;
  if (fqdn === zone) return { field: 'name', rule: 'ds-apex', message: 'a DS record set belongs in the parent zone, never at the apex (RFC 4035 §2.4)' };
  if (!typesAtName.includes('NS')) return { field: 'name', rule: 'ds-delegation', message: `${fqdn} has no NS record set: DS only stands at a delegation point (RFC 4035 §2.4); add the NS first` };
  return null;
}
