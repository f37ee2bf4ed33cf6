import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
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
  @ApiQuery({ name: 'kind', required: false, description: 'zone, record, region, service, token, anycast-topology, region-health, notification-endpoint' })
  @ApiQuery({ name: 'name', required: false, description: 'the object: a name, or "<owner> <type> in <zone>" for records' })
  @ApiQuery({ name: 'token', required: false, description: 'the token name (admin: ADMIN_TOKEN; system: no request)' })
  @ApiQuery({ name: 'since', required: false, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'until', required: false, description: 'ISO 8601, exclusive' })
  list(@Query() q: Record<string, unknown>) { return this.audit.list(q, parsePageQuery(q, FILTERS)); }
}
