/** Response schemas of the replication routes. */
import { bool, int, list, obj, oneOf, schemaRef, str, time } from '../common/openapi';
import { REPLICATION_SETTINGS } from '../registry/registry.openapi';

const T = '2026-12-06T01:48:28.892Z';

export const PROMOTION = schemaRef('Promotion', obj({
  id: int(),
  service: str(),
  at: time(),
  from: str(),
  to: str(),
  trigger: oneOf(['automatic', 'manual']),
  forced: bool(),
  dataLossWindowMs: int({ nullable: true, description: "the promoted replica's last reported lag: writes newer than this may be lost; null when unknown" }),
  reason: str(),
  instance: str({ nullable: true }),
  notification: obj({ url: str(), status: str({ nullable: true }), deliveredAt: time({ nullable: true }) }, [], { nullable: true }),
}));
export const PROMOTION_EXAMPLE = {
  id: 1, service: 'db.example.com', at: T, from: 'eu-west-1', to: 'eu-central-1', trigger: 'manual', forced: false, dataLossWindowMs: 120,
  reason: 'manual promotion of eu-central-1', instance: 'georoute-3cd54435', notification: null,
};

const { mode: _mode, ...settings } = REPLICATION_SETTINGS;
const REPLICA_STATE = obj({
  region: str(),
  jurisdiction: str(),
  role: oneOf(['primary', 'replica', 'peer'], { nullable: true, description: 'null when the service is not replicated' }),
  health: oneOf(['healthy', 'unhealthy', 'unknown']),
  drained: bool(),
  lagMs: int({ nullable: true }),
  reportedAt: time({ nullable: true }),
  reportAgeMs: int({ nullable: true }),
  maxReportAgeMs: int(),
  readEligible: bool({ description: 'may answer reads now (the primary, or a fresh replica)' }),
  staleBecause: oneOf(['lag-exceeds-bound', 'report-too-old', 'no-report'], { nullable: true }),
});
/** GET /v1/services/{fqdn}/replication: the settings (only `mode` when not replicated), each region's state, recent promotions. */
export const SERVICE_REPLICATION = schemaRef('ServiceReplication', obj(
  {
    fqdn: str(),
    mode: oneOf(['none', 'active-passive', 'active-active']),
    ...settings,
    regions: list(REPLICA_STATE),
    promotions: list(PROMOTION, { description: 'recent promotions, newest first' }),
  },
  Object.keys(settings),
));
export const SERVICE_REPLICATION_EXAMPLE = {
  fqdn: 'db.example.com', mode: 'active-passive', primary: 'eu-west-1', maxStalenessMs: 1000, promotion: 'manual', promotionDelaySeconds: 30, conflictResolution: null,
  writeFqdn: 'write.db.example.com', notifyUrl: null, notifySecretSet: false,
  regions: [
    { region: 'eu-west-1', jurisdiction: 'EU', role: 'primary', health: 'healthy', drained: false, lagMs: null, reportedAt: null, reportAgeMs: null, maxReportAgeMs: 60000, readEligible: true, staleBecause: null },
    { region: 'eu-central-1', jurisdiction: 'EU', role: 'replica', health: 'healthy', drained: false, lagMs: 120, reportedAt: T, reportAgeMs: 800, maxReportAgeMs: 60000, readEligible: true, staleBecause: null },
  ],
  promotions: [],
};
