import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { EXPLANATION, EXPLANATION_EXAMPLE } from './route.openapi';
import { RouteService } from './route.service';
import { RequireScope } from '../common/scopes';

@ApiTags('route')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/route')
export class RouteController {
  constructor(private readonly route: RouteService) {}

  @Get()
  @ApiContract({
    summary: 'Explain the routing decision for a name and a client address',
    description: 'The same engine, snapshot and GeoIP lookup as the DNS server, with every candidate region and why it was or was not chosen.',
    status: 200, schema: EXPLANATION, example: EXPLANATION_EXAMPLE, errors: [400, 404], errorText: { 404: 'No service of that name' },
  })
  @ApiQuery({ name: 'fqdn', schema: { type: 'string' }, example: 'app.example.com' })
  @ApiQuery({ name: 'client', schema: { type: 'string' }, example: '81.2.69.160', description: 'The client address to explain the decision for' })
  @ApiQuery({ name: 'type', required: false, enum: ['A', 'AAAA'] })
  @ApiQuery({ name: 'access', required: false, enum: ['read', 'write'], description: 'write: as a write (the primary of an active-passive service); default read' })
  explain(@Query() q: Record<string, unknown>) { return this.route.explain(q); }
}
