import { Injectable } from '@nestjs/common';
import { countries } from 'countries-list';
import { DomainError, FieldProblem } from '../common/domain-error';
import { isAssignedCountry } from '../common/countries';
import { EU_JURISDICTION, EU_JURISDICTION_COUNTRIES, isEuCountry, jurisdictionOf } from '../routing/jurisdiction';
import { SnapshotStore } from '../snapshot/snapshot.store';

export type DataClass = 'personal' | 'pseudonymous' | 'anonymous';

export interface ReplicationViolation {
  region: string;
  jurisdiction: string;
  rule: string;
}

/**
 * The replication geofence: personal and pseudonymous data of EU subjects may be replicated only
 * to regions of the EU jurisdiction (GDPR Chapter V); anonymous data anywhere.
 */
@Injectable()
export class ResidencyService {
  constructor(private readonly snapshots: SnapshotStore) {}

  jurisdictions() {
    const regions = [...this.snapshots.current().regions.values()];
    const used = new Map<string, string[]>();
    for (const r of regions) used.set(r.jurisdiction, [...(used.get(r.jurisdiction) ?? []), r.name]);
    const name = (cc: string) => (countries as Record<string, { name: string }>)[cc]?.name ?? cc;
    const list = [
      {
        code: EU_JURISDICTION,
        name: 'European Union and EEA (GDPR)',
        countries: EU_JURISDICTION_COUNTRIES.map((cc) => ({ code: cc, name: name(cc) })),
        regions: used.get(EU_JURISDICTION) ?? [],
      },
      ...[...used.keys()]
        .filter((j) => j !== EU_JURISDICTION)
        .sort()
        .map((j) => ({ code: j, name: name(j), countries: [{ code: j, name: name(j) }], regions: used.get(j) ?? [] })),
    ];
    return { jurisdictions: list, rule: 'a country outside the EU/EEA is a jurisdiction of its own, named by its ISO code' };
  }

  replicationCheck(body: Record<string, unknown>) {
    const problems: FieldProblem[] = [];
    for (const key of Object.keys(body ?? {})) {
      if (!['dataClass', 'subjectJurisdiction', 'sourceRegion', 'targetRegions'].includes(key)) {
        problems.push({ field: key, rule: 'unknown-field', message: 'is not a known field' });
      }
    }
    const { dataClass, subjectJurisdiction, sourceRegion, targetRegions } = body ?? {};
    if (dataClass !== 'personal' && dataClass !== 'pseudonymous' && dataClass !== 'anonymous') {
      problems.push({ field: 'dataClass', rule: 'enum', message: 'must be personal, pseudonymous or anonymous' });
    }
    if (typeof subjectJurisdiction !== 'string' || (subjectJurisdiction !== EU_JURISDICTION && !isAssignedCountry(subjectJurisdiction))) {
      problems.push({ field: 'subjectJurisdiction', rule: 'jurisdiction', message: 'must be "EU" or an assigned ISO 3166-1 alpha-2 country code' });
    }
    const regions = this.snapshots.current().regions;
    if (typeof sourceRegion !== 'string' || !regions.has(sourceRegion)) {
      problems.push({ field: 'sourceRegion', rule: 'exists', message: 'must name an existing region' });
    }
    if (!Array.isArray(targetRegions) || targetRegions.length === 0 || targetRegions.length > 100) {
      problems.push({ field: 'targetRegions', rule: 'array', message: 'must be a list of 1-100 region names' });
    } else {
      targetRegions.forEach((r, i) => {
        if (typeof r !== 'string' || !regions.has(r)) problems.push({ field: `targetRegions[${i}]`, rule: 'exists', message: `region "${String(r)}" does not exist` });
      });
    }
    if (problems.length > 0) throw DomainError.validation(problems);

    const subjectIsEu = subjectJurisdiction === EU_JURISDICTION || isEuCountry(subjectJurisdiction as string);
    const restricted = subjectIsEu && dataClass !== 'anonymous';
    const violations: ReplicationViolation[] = [];
    const check = (name: string, rule: string) => {
      const jurisdiction = regions.get(name)!.jurisdiction;
      if (restricted && jurisdiction !== EU_JURISDICTION) violations.push({ region: name, jurisdiction, rule });
    };
    check(sourceRegion as string, 'gdpr-source-outside-eu');
    for (const t of new Set(targetRegions as string[])) check(t, 'gdpr-eu-data-stays-in-eu');
    return {
      allowed: violations.length === 0,
      dataClass,
      subjectJurisdiction: subjectIsEu ? EU_JURISDICTION : jurisdictionOf(subjectJurisdiction as string),
      violations,
      rule: restricted
        ? `${dataClass} data of EU subjects may be replicated only to regions in the EU jurisdiction`
        : dataClass === 'anonymous'
          ? 'anonymous data may be replicated anywhere'
          : 'data of non-EU subjects is not restricted by the GDPR geofence',
    };
  }
}
