import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { INSTANCES, INSTANCES_EXAMPLE } from './instances.openapi';
import { InstancesService } from './instances.service';
import { RequireScope } from '../common/scopes';

@ApiTags('cluster')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/instances')
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Get()
  @ApiContract({ summary: 'The georoute instances sharing this database, with the snapshot each serves', status: 200, schema: INSTANCES, example: INSTANCES_EXAMPLE, errors: [503] })
  list() { return this.instances.list(); }
}
