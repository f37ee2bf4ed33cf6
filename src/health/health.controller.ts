import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract, PAGE_PARAMETERS } from '../common/openapi';
import { HEALTH_EVENT_EXAMPLE, HEALTH_EVENTS_PAGE, REGION_HEALTH, REGION_HEALTH_EXAMPLE, REPORT_BODY, WEBHOOK_ACCEPTED, WEBHOOK_ACCEPTED_EXAMPLE } from './health.openapi';
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
  @ApiParam({ name: 'name', example: 'eu-west-1' })
  @ApiContract({
    summary: "Report a region's health (and replication lag) with a health:report token",
    description: 'The signed webhook\'s body without region (the path names it), authenticated by the bearer token instead of a signature.',
    status: 202, success: "Accepted; the region's verdict after it", schema: WEBHOOK_ACCEPTED, example: WEBHOOK_ACCEPTED_EXAMPLE, errors: [400, 404, 503],
  })
  @ApiBody({ schema: REPORT_BODY, examples: { unhealthy: { value: { status: 'unhealthy', reason: 'disk full', metrics: { replicationLagMs: 120 } } } } })
  report(@Param('name') name: string, @Body() body: unknown) { return this.webhooks.report(name, body); }

  @Get('regions/:name/health')
  @ApiParam({ name: 'name', example: 'eu-west-1' })
  @ApiContract({ summary: "A region's health: verdict, votes, recent observations and transitions", status: 200, schema: REGION_HEALTH, example: REGION_HEALTH_EXAMPLE, errors: [404, 503] })
  region(@Param('name') name: string) { return this.health.regionHealth(name); }

  @Get('health/events')
  @ApiContract({ summary: 'Health transitions of every region, newest first (paged)', status: 200, schema: HEALTH_EVENTS_PAGE, example: { items: [HEALTH_EVENT_EXAMPLE], nextCursor: null }, errors: [400, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  @ApiQuery({ name: 'region', required: false, schema: { type: 'string' }, description: 'only this region' })
  events(@Query() q: Record<string, unknown>) {
    const page = parsePageQuery(q, ['region']);
    if (page.after !== null && !/^\d+$/.test(page.after)) throw DomainError.field('cursor', 'cursor', 'is not a cursor returned by this API');
    const region = typeof q.region === 'string' && q.region !== '' ? q.region : undefined;
    return this.health.listEvents({ region, limit: page.limit, afterId: page.after === null ? null : Number(page.after) });
  }
}
