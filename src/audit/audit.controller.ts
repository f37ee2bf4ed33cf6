import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract, PAGE_PARAMETERS } from '../common/openapi';
import { AUDIT_EXAMPLE, AUDIT_PAGE } from './audit.openapi';
import { parsePageQuery } from '../common/paging';
import { RequireScope } from '../common/scopes';
import { AuditService } from './audit.service';

const FILTERS = ['kind', 'name', 'token', 'since', 'until'];

/** The audit trail, newest first (scope `admin`). */
@ApiTags('audit')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiContract({ summary: 'The audit trail: who changed what, newest first (paged)', status: 200, schema: AUDIT_PAGE, example: { items: [AUDIT_EXAMPLE], nextCursor: null }, errors: [400, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  @ApiQuery({ name: 'kind', required: false, schema: { type: 'string' }, description: 'zone, record, region, service, token, anycast-topology, region-health, notification-endpoint, dnssec, beacon-key' })
  @ApiQuery({ name: 'name', required: false, schema: { type: 'string' }, description: 'the object: a name, or "<owner> <type> in <zone>" for records' })
  @ApiQuery({ name: 'token', required: false, schema: { type: 'string' }, description: 'the token name (admin: ADMIN_TOKEN; system: no request)' })
  @ApiQuery({ name: 'since', required: false, schema: { type: 'string', format: 'date-time' }, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'until', required: false, schema: { type: 'string', format: 'date-time' }, description: 'ISO 8601, exclusive' })
  list(@Query() q: Record<string, unknown>) { return this.audit.list(q, parsePageQuery(q, FILTERS)); }
}
