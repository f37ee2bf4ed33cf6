import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { InstancesService } from './instances.service';
import { RequireScope } from '../common/scopes';

@ApiTags('cluster')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/instances')
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Get()
  list() { return this.instances.list(); }
}
