import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { PROMOTION, PROMOTION_EXAMPLE, SERVICE_REPLICATION, SERVICE_REPLICATION_EXAMPLE } from './replication.openapi';
import { PromoteDto } from './promote.dto';
import { PromotionService } from './promotion.service';
import { ReplicationService } from './replication.service';
import { RequireScope } from '../common/scopes';

@ApiTags('replication')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/services')
export class ReplicationController {
  constructor(
    private readonly replication: ReplicationService,
    private readonly promotions: PromotionService,
  ) {}

  /** Replication settings, each region's role, last reported lag and read eligibility, recent promotions. */
  @Get(':fqdn/replication')
  @ApiParam({ name: 'fqdn', example: 'db.example.com' })
  @ApiContract({ summary: "A service's replication: each region's role, lag and read eligibility, recent promotions", status: 200, schema: SERVICE_REPLICATION, example: SERVICE_REPLICATION_EXAMPLE, errors: [404, 503] })
  get(@Param('fqdn') fqdn: string) { return this.replication.view(fqdn); }

  /** Makes a replica the primary (409 with the reason when unsafe, unless force). */
  @RequireScope('write')
  @Post(':fqdn/promote') @HttpCode(200)
  @ApiParam({ name: 'fqdn', example: 'db.example.com' })
  @ApiContract({
    summary: 'Promote a replica to primary (refused with the reason when unsafe, unless force)',
    status: 200, schema: PROMOTION, example: PROMOTION_EXAMPLE, errors: [400, 404, 409, 413, 503],
    errorText: { 409: 'Unsafe (lag, no report, unhealthy, other jurisdiction; reason says which), or the service is not active-passive' },
  })
  promote(@Param('fqdn') fqdn: string, @Body() dto: PromoteDto) { return this.promotions.promoteManually(fqdn, dto.region, dto.force ?? false); }
}
