import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DomainError } from '../common/domain-error';
import { parsePageQuery } from '../common/paging';
import { HealthService } from './health.service';
import { RequireScope } from '../common/scopes';

@ApiTags('health')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('regions/:name/health')
  region(@Param('name') name: string) { return this.health.regionHealth(name); }

  @Get('health/events')
  events(@Query() q: Record<string, unknown>) {
    const page = parsePageQuery(q, ['region']);
    if (page.after !== null && !/^\d+$/.test(page.after)) throw DomainError.field('cursor', 'cursor', 'is not a cursor returned by this API');
    const region = typeof q.region === 'string' && q.region !== '' ? q.region : undefined;
    return this.health.listEvents({ region, limit: page.limit, afterId: page.after === null ? null : Number(page.after) });
  }
}
