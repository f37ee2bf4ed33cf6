import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract, PAGE_PARAMETERS } from '../common/openapi';
import { SERVICE, SERVICE_EXAMPLE, SERVICES_PAGE } from './registry.openapi';
import { parsePageQuery } from '../common/paging';
import { CreateServiceDto, UpdateServiceDto } from './dto/service.dto';
import { ServicesService } from './services.service';
import { RequireScope } from '../common/scopes';
import { CachedRead } from '../common/cached-read';

@ApiTags('services')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/services')
export class ServicesController {
  constructor(private readonly services: ServicesService) {}

  @RequireScope('write')
  @Post() @HttpCode(201)
  @ApiContract({ summary: 'Create a routed service (a name answered by the routing engine)', status: 201, schema: SERVICE, example: SERVICE_EXAMPLE, errors: [400, 404, 409, 413, 503], errorText: { 404: 'No zone contains the name', 409: 'The service exists, or the name has static records or is a write name' } })
  create(@Body() dto: CreateServiceDto) { return this.services.create(dto); }

  @Get()
  @CachedRead()
  @ApiContract({ summary: 'List services (paged, by name)', status: 200, schema: SERVICES_PAGE, example: { items: [SERVICE_EXAMPLE], nextCursor: null }, errors: [400, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  list(@Query() q: Record<string, unknown>) { return this.services.list(parsePageQuery(q)); }

  @Get(':fqdn')
  @CachedRead()
  @ApiParam({ name: 'fqdn', example: 'app.example.com' })
  @ApiContract({ summary: 'Get a service', status: 200, schema: SERVICE, example: SERVICE_EXAMPLE, errors: [404, 503] })
  get(@Param('fqdn') fqdn: string) { return this.services.get(fqdn); }

  @RequireScope('write')
  @Patch(':fqdn')
  @ApiParam({ name: 'fqdn', example: 'app.example.com' })
  @ApiContract({ summary: "Change a service's policy, regions or settings", status: 200, schema: SERVICE, example: { ...SERVICE_EXAMPLE, ttl: 45 }, errors: [400, 404, 409, 413, 503], errorText: { 409: 'The change conflicts (e.g. replication.primary changes only by a promotion)' } })
  update(@Param('fqdn') fqdn: string, @Body() dto: UpdateServiceDto) { return this.services.update(fqdn, dto); }

  @RequireScope('write')
  @Delete(':fqdn') @HttpCode(204)
  @ApiParam({ name: 'fqdn', example: 'app.example.com' })
  @ApiContract({ summary: 'Delete a service', status: 204, errors: [404, 503] })
  remove(@Param('fqdn') fqdn: string) { return this.services.remove(fqdn); }
}
