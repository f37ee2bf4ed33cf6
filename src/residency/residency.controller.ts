import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { JURISDICTIONS, JURISDICTIONS_EXAMPLE, REPLICATION_CHECK, REPLICATION_CHECK_BODY, REPLICATION_CHECK_EXAMPLE, REPLICATION_CHECK_RESULT_EXAMPLE } from './residency.openapi';
import { ResidencyService } from './residency.service';
import { RequireScope } from '../common/scopes';

@ApiTags('residency')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/residency')
export class ResidencyController {
  constructor(private readonly residency: ResidencyService) {}

  @Get('jurisdictions')
  @ApiContract({ summary: 'Jurisdictions, their countries and the regions in each', status: 200, schema: JURISDICTIONS, example: JURISDICTIONS_EXAMPLE, errors: [] })
  jurisdictions() { return this.residency.jurisdictions(); }

  @Post('replication-check') @HttpCode(200)
  @ApiBody({ schema: REPLICATION_CHECK_BODY, examples: { gdpr: { value: REPLICATION_CHECK_EXAMPLE } } })
  @ApiContract({
    summary: 'Check whether data may be replicated between regions under the residency rules',
    status: 200, schema: REPLICATION_CHECK, example: REPLICATION_CHECK_RESULT_EXAMPLE, errors: [400, 413],
  })
  replicationCheck(@Body() body: Record<string, unknown>) { return this.residency.replicationCheck(body); }
}
