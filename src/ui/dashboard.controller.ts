import { Controller, Get, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiContract, int, list, num, obj, oneOf, schemaRef, str, time } from '../common/openapi';
import type { AuthenticatedRequest } from '../common/auth.guard';
import { grants, RequireScope, SCOPES } from '../common/scopes';
import { TrafficService } from './traffic.service';

const SESSION = schemaRef('DashboardSession', obj({
  name: str({ description: "the token's name (admin for ADMIN_TOKEN)" }),
  scopes: list(oneOf(SCOPES)),
  grants: list(oneOf(SCOPES), { description: 'every scope the token has, implied ones included' }),
}));

const TRAFFIC = schemaRef('DashboardTraffic', obj({
  at: time(),
  windowSeconds: num({ description: '0 when there was only one reading' }),
  repliesPerSecond: num(),
  regions: list(obj({ region: str(), qps: num(), total: int() })),
  answers: list(obj({ service: str(), region: str({ description: "'' when the answer named no region" }), qps: num(), total: int() })),
}));

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
  @ApiContract({ summary: "The calling token's name and scopes, and every scope it grants", status: 200, success: 'The principal', schema: SESSION, example: { name: 'dashboard-viewer', scopes: ['read'], grants: ['read'] }, errors: [] })
  session(@Req() req: AuthenticatedRequest) {
    const principal = req.principal!;
    return { name: principal.name, scopes: principal.scopes, grants: SCOPES.filter((s) => grants(principal.scopes, s)) };
  }

  @Get('traffic')
  @ApiContract({
    summary: "DNS queries per second per region and per answer (service and region), from this instance's counters over the last 10 s",
    status: 200, success: 'Rates and totals since this instance started', schema: TRAFFIC, errors: [],
    example: { at: '2026-12-06T01:50:00.000Z', windowSeconds: 10, repliesPerSecond: 12.5, regions: [{ region: 'eu-west-1', qps: 12, total: 4031 }], answers: [{ service: 'app.example.com', region: 'eu-west-1', qps: 12, total: 4031 }] },
  })
  rates() {
    return this.traffic.rates();
  }
}
