import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RouteService } from './route.service';
import { RequireScope } from '../common/scopes';

@ApiTags('route')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/route')
export class RouteController {
  constructor(private readonly route: RouteService) {}

  @Get()
  @ApiQuery({ name: 'fqdn', example: 'app.example.com' })
  @ApiQuery({ name: 'client', example: '81.2.69.160', description: 'The client address to explain the decision for' })
  @ApiQuery({ name: 'type', required: false, enum: ['A', 'AAAA'] })
  explain(@Query() q: Record<string, unknown>) { return this.route.explain(q); }
}
