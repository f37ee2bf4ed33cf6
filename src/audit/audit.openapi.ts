/** Response schema of the audit trail. */
import { anyJson, obj, page, schemaRef, str, time } from '../common/openapi';

export const AUDIT_ENTRY = schemaRef('AuditEntry', obj({
  id: str({ example: '31' }),
  at: time(),
  actor: str({ description: 'the token name (admin: ADMIN_TOKEN; system: no request)' }),
  tokenId: str({ nullable: true }),
  address: str({ nullable: true, description: 'the client address, truncated' }),
  route: str({ nullable: true, example: 'POST /v1/tokens' }),
  action: str({ example: 'create' }),
  kind: str({ example: 'token' }),
  name: str(),
  before: anyJson('the object before (secrets left out); null for a create'),
  after: anyJson('the object after (secrets left out); null for a delete'),
}));
export const AUDIT_EXAMPLE = {
  id: '31', at: '2026-12-06T01:48:29.149Z', actor: 'admin', tokenId: null, address: '127.0.0.0/24', route: 'PATCH /v1/regions/:name', action: 'update', kind: 'region', name: 'eu-west-1',
  before: { drained: false }, after: { drained: true },
};
export const AUDIT_PAGE = page(AUDIT_ENTRY);
