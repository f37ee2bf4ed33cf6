import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DomainError } from '../common/domain-error';
import { parsePageQuery } from '../common/paging';
import { HealthService } from './health.service';
import { WebhookService } from './webhook.service';
import { RequireScope } from '../common/scopes';

@ApiTags('health')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly webhooks: WebhookService,
  ) {}

  /**
   * A health (and replication lag) report from a tool with an API token of scope `health:report`:
   * the signed webhook's body without `region`, authenticated by the token instead of a signature.
   */
  @RequireScope('health:report')
  @Post('regions/:name/report') @HttpCode(202)
  report(@Param('name') name: string, @Body() body: unknown) { return this.webhooks.report(name, body); }

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
