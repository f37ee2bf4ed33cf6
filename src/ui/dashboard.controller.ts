import { Controller, Get, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../common/auth.guard';
import { grants, RequireScope, SCOPES } from '../common/scopes';
import { TrafficService } from './traffic.service';

/**
 * What the dashboard needs besides the resource API: who the token is (so it offers drain only
 * to a token that may write), and queries per second from this instance's own counters.
 */
@ApiTags('dashboard')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/dashboard')
export class DashboardController {
  constructor(private readonly traffic: TrafficService) {}

  @Get('session')
  @ApiOperation({ summary: "The calling token's name and scopes, and every scope it grants" })
  @ApiOkResponse({ description: 'The principal', schema: { example: { name: 'dashboard-viewer', scopes: ['read'], grants: ['read'] } } })
  session(@Req() req: AuthenticatedRequest) {
    const principal = req.principal!;
    return { name: principal.name, scopes: principal.scopes, grants: SCOPES.filter((s) => grants(principal.scopes, s)) };
  }

  @Get('traffic')
  @ApiOperation({ summary: "DNS queries per second per region and per answer (service and region), from this instance's counters over the last 10 s" })
  @ApiOkResponse({
    description: 'Rates and totals since this instance started',
    schema: { example: { at: '2026-12-06T01:50:00.000Z', windowSeconds: 10, repliesPerSecond: 12.5, regions: [{ region: 'eu-west-1', qps: 12, total: 4031 }], answers: [{ service: 'app.example.com', region: 'eu-west-1', qps: 12, total: 4031 }] } },
  })
  rates() {
    return this.traffic.rates();
  }
}
