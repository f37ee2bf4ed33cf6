/** Request and response schemas of the residency routes. */
import { bool, list, obj, oneOf, schemaRef, str } from '../common/openapi';

export const JURISDICTIONS = schemaRef('Jurisdictions', obj({
  jurisdictions: list(obj({
    code: str({ example: 'EU' }),
    name: str(),
    countries: list(obj({ code: str(), name: str() })),
    regions: list(str(), { description: 'the regions in it' }),
  })),
  rule: str(),
}));
export const JURISDICTIONS_EXAMPLE = {
  jurisdictions: [
    { code: 'EU', name: 'European Union and EEA (GDPR)', countries: [{ code: 'IE', name: 'Ireland' }], regions: ['eu-west-1', 'eu-central-1'] },
    { code: 'US', name: 'United States', countries: [{ code: 'US', name: 'United States' }], regions: ['us-east-1'] },
  ],
  rule: 'a country outside the EU/EEA is a jurisdiction of its own, named by its ISO code',
};

const DATA_CLASSES = ['personal', 'pseudonymous', 'anonymous'];
export const REPLICATION_CHECK_BODY = schemaRef('ReplicationCheckRequest', obj({
  dataClass: oneOf(DATA_CLASSES),
  subjectJurisdiction: str({ description: '"EU" or an ISO 3166-1 alpha-2 country code' }),
  sourceRegion: str(),
  targetRegions: list(str(), { minItems: 1, maxItems: 100 }),
}));
export const REPLICATION_CHECK_EXAMPLE = { dataClass: 'personal', subjectJurisdiction: 'EU', sourceRegion: 'eu-west-1', targetRegions: ['eu-central-1', 'us-east-1'] };

export const REPLICATION_CHECK = schemaRef('ReplicationCheck', obj({
  allowed: bool(),
  dataClass: oneOf(DATA_CLASSES),
  subjectJurisdiction: str(),
  violations: list(obj({ region: str(), jurisdiction: str(), rule: str() })),
  rule: str(),
}));
export const REPLICATION_CHECK_RESULT_EXAMPLE = {
  allowed: false, dataClass: 'personal', subjectJurisdiction: 'EU', violations: [{ region: 'us-east-1', jurisdiction: 'US', rule: 'gdpr-eu-data-stays-in-eu' }],
  rule: 'personal data of EU subjects may be replicated only to regions in the EU jurisdiction',
};
