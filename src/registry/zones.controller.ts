import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract, PAGE_PARAMETERS } from '../common/openapi';
import { RECORD, RECORD_EXAMPLE, RECORDS_PAGE, ZONE, ZONE_EXAMPLE, ZONES_PAGE } from './registry.openapi';
import { parsePageQuery } from '../common/paging';
import { CreateRecordDto, CreateZoneDto, UpdateZoneDto } from './dto/zone.dto';
import { ZonesService } from './zones.service';
import { RequireScope } from '../common/scopes';
import { CachedRead } from '../common/cached-read';

@ApiTags('zones')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/zones')
export class ZonesController {
  constructor(private readonly zones: ZonesService) {}

  @RequireScope('write')
  @Post() @HttpCode(201)
  @ApiContract({ summary: 'Create a zone', status: 201, success: 'The zone, with its SOA serial', schema: ZONE, example: ZONE_EXAMPLE, errors: [400, 409, 413, 503], errorText: { 409: 'A zone of that name exists' } })
  create(@Body() dto: CreateZoneDto) { return this.zones.create(dto); }

  @Get()
  @CachedRead()
  @ApiContract({ summary: 'List zones (paged, by name)', status: 200, schema: ZONES_PAGE, example: { items: [ZONE_EXAMPLE], nextCursor: null }, errors: [400, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  list(@Query() q: Record<string, unknown>) { return this.zones.list(parsePageQuery(q)); }

  @Get(':name')
  @CachedRead()
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: 'Get a zone', status: 200, schema: ZONE, example: ZONE_EXAMPLE, errors: [404, 503] })
  get(@Param('name') name: string) { return this.zones.get(name); }

  @RequireScope('write')
  @Patch(':name')
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: "Change a zone's nameservers, hostmaster or SOA timers", status: 200, schema: ZONE, example: { ...ZONE_EXAMPLE, ttl: 600, serial: 2 }, errors: [400, 404, 413, 503] })
  update(@Param('name') name: string, @Body() dto: UpdateZoneDto) { return this.zones.update(name, dto); }

  @RequireScope('write')
  @Delete(':name') @HttpCode(204)
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: 'Delete a zone and its records', status: 204, errors: [404, 409, 503], errorText: { 409: 'Services of the zone still exist' } })
  remove(@Param('name') name: string) { return this.zones.remove(name); }

  @RequireScope('write')
  @Post(':name/records') @HttpCode(201)
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: 'Add a record to a zone', status: 201, schema: RECORD, example: RECORD_EXAMPLE, errors: [400, 404, 409, 413, 503], errorText: { 409: 'The name already has a record set of that type, or is a routed service or write name' } })
  addRecord(@Param('name') name: string, @Body() dto: CreateRecordDto) { return this.zones.addRecord(name, dto); }

  @Get(':name/records')
  @CachedRead()
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: "List a zone's records (paged)", status: 200, schema: RECORDS_PAGE, example: { items: [RECORD_EXAMPLE], nextCursor: null }, errors: [400, 404, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  listRecords(@Param('name') name: string, @Query() q: Record<string, unknown>) { return this.zones.listRecords(name, parsePageQuery(q)); }

  @RequireScope('write')
  @Delete(':name/records/:id') @HttpCode(204)
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiParam({ name: 'id', format: 'uuid', description: 'the id the record was created with' })
  @ApiContract({ summary: 'Delete a record', status: 204, errors: [404, 503] })
  removeRecord(@Param('name') name: string, @Param('id') id: string) { return this.zones.removeRecord(name, id); }
}
