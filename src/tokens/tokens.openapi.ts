/** Response schemas of the token routes. */
import { bool, list, obj, oneOf, page, schemaRef, str, time } from '../common/openapi';
import { SCOPES } from '../common/scopes';

const TOKEN_FIELDS = {
  id: str({ description: 'public id (also inside the token)', example: '5ec288f71f6ef541' }),
  name: str(),
  scopes: list(oneOf(SCOPES)),
  createdBy: str({ description: 'the token name that created it (admin: ADMIN_TOKEN)' }),
  createdAt: time(),
  expiresAt: time({ nullable: true }),
  revokedAt: time({ nullable: true }),
  active: bool({ description: 'neither revoked nor expired' }),
};
export const TOKEN = schemaRef('Token', obj(TOKEN_FIELDS));
export const CREATED_TOKEN = schemaRef('CreatedToken', obj({ ...TOKEN_FIELDS, token: str({ description: 'the bearer token: shown in this answer only' }) }));
export const TOKEN_EXAMPLE = { id: '5ec288f71f6ef541', name: 'ci-deploy', scopes: ['write'], createdBy: 'admin', createdAt: '2026-12-06T01:48:29.149Z', expiresAt: null, revokedAt: null, active: true };
export const CREATED_TOKEN_EXAMPLE = { ...TOKEN_EXAMPLE, token: 'grt_5ec288f71f6ef541_PCy-KcscYOtLWGz1xZK4lLFviymoDv2u7D7AfSpWxm0' };
export const TOKENS_PAGE = page(TOKEN);
