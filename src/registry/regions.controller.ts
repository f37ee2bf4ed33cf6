import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract, PAGE_PARAMETERS } from '../common/openapi';
import { REGION, REGION_EXAMPLE, REGIONS_PAGE } from './registry.openapi';
import { parsePageQuery } from '../common/paging';
import { CreateRegionDto, UpdateRegionDto } from './dto/region.dto';
import { RegionsService } from './regions.service';
import { RequireScope } from '../common/scopes';
import { CachedRead } from '../common/cached-read';

@ApiTags('regions')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/regions')
export class RegionsController {
  constructor(private readonly regions: RegionsService) {}

  @RequireScope('write')
  @Post() @HttpCode(201)
  @ApiContract({ summary: 'Create a region', status: 201, schema: REGION, example: REGION_EXAMPLE, errors: [400, 409, 413, 503], errorText: { 409: 'A region of that name exists' } })
  create(@Body() dto: CreateRegionDto) { return this.regions.create(dto); }

  @Get()
  @CachedRead()
  @ApiContract({ summary: 'List regions with their health (paged, by name)', status: 200, schema: REGIONS_PAGE, example: { items: [REGION_EXAMPLE], nextCursor: null }, errors: [400, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  list(@Query() q: Record<string, unknown>) { return this.regions.list(parsePageQuery(q)); }

  @Get(':name')
  @CachedRead()
  @ApiParam({ name: 'name', example: 'eu-west-1' })
  @ApiContract({ summary: 'Get a region with its health', status: 200, schema: REGION, example: REGION_EXAMPLE, errors: [404, 503] })
  get(@Param('name') name: string) { return this.regions.get(name); }

  @RequireScope('write')
  @Patch(':name')
  @ApiParam({ name: 'name', example: 'eu-west-1' })
  @ApiContract({ summary: 'Change a region (drain, weight, endpoints, health check, anycast...)', status: 200, schema: REGION, example: { ...REGION_EXAMPLE, drained: true }, errors: [400, 404, 409, 413, 503], errorText: { 409: 'The change breaks a service that uses the region (e.g. residency)' } })
  update(@Param('name') name: string, @Body() dto: UpdateRegionDto) { return this.regions.update(name, dto); }

  @RequireScope('write')
  @Delete(':name') @HttpCode(204)
  @ApiParam({ name: 'name', example: 'eu-west-1' })
  @ApiContract({ summary: 'Delete a region', status: 204, errors: [404, 409, 503], errorText: { 409: 'Services still use the region' } })
  remove(@Param('name') name: string) { return this.regions.remove(name); }
}
