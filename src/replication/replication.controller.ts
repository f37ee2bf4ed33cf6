import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
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
  get(@Param('fqdn') fqdn: string) { return this.replication.view(fqdn); }

  /** Makes a replica the primary (409 with the reason when unsafe, unless force). */
  @RequireScope('write')
  @Post(':fqdn/promote') @HttpCode(200)
  promote(@Param('fqdn') fqdn: string, @Body() dto: PromoteDto) { return this.promotions.promoteManually(fqdn, dto.region, dto.force ?? false); }
}
