import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { ResidencyService } from './residency.service';
import { RequireScope } from '../common/scopes';

@ApiTags('residency')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/residency')
export class ResidencyController {
  constructor(private readonly residency: ResidencyService) {}

  @Get('jurisdictions')
  jurisdictions() { return this.residency.jurisdictions(); }

  @Post('replication-check') @HttpCode(200)
  @ApiBody({ schema: { example: { dataClass: 'personal', subjectJurisdiction: 'EU', sourceRegion: 'eu-west-1', targetRegions: ['eu-central-1', 'us-east-1'] } } })
  replicationCheck(@Body() body: Record<string, unknown>) { return this.residency.replicationCheck(body); }
}
