/** Response schemas of the operations endpoints. */
import { bool, int, list, obj, oneOf, schemaRef, str } from '../common/openapi';

export const LIVENESS = obj({ status: oneOf(['ok']) });

export const READINESS = schemaRef('Readiness', obj({
  ready: bool(),
  degraded: bool({ description: 'serving from the snapshot on disk while the database is away' }),
  snapshotVersion: int(),
  snapshotSource: str({ example: 'database' }),
  checks: list(obj({ name: str(), ok: bool(), detail: str() }, ['detail'])),
}));
export const READINESS_EXAMPLE = {
  ready: true, degraded: false, snapshotVersion: 2, snapshotSource: 'database',
  checks: [{ name: 'snapshot', ok: true, detail: 'version 2 from database' }, { name: 'dns', ok: true, detail: 'port 53' }, { name: 'database', ok: true }],
};
