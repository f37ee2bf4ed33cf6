import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { parsePageQuery } from '../common/paging';
import { CreateRecordDto, CreateZoneDto, UpdateZoneDto } from './dto/zone.dto';
import { ZonesService } from './zones.service';
import { RequireScope } from '../common/scopes';

@ApiTags('zones')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/zones')
export class ZonesController {
  constructor(private readonly zones: ZonesService) {}

  @RequireScope('write')
  @Post() @HttpCode(201)
  create(@Body() dto: CreateZoneDto) { return this.zones.create(dto); }

  @Get()
  list(@Query() q: Record<string, unknown>) { return this.zones.list(parsePageQuery(q)); }

  @Get(':name')
  get(@Param('name') name: string) { return this.zones.get(name); }

  @RequireScope('write')
  @Patch(':name')
  update(@Param('name') name: string, @Body() dto: UpdateZoneDto) { return this.zones.update(name, dto); }

  @RequireScope('write')
  @Delete(':name') @HttpCode(204)
  remove(@Param('name') name: string) { return this.zones.remove(name); }

  @RequireScope('write')
  @Post(':name/records') @HttpCode(201)
  addRecord(@Param('name') name: string, @Body() dto: CreateRecordDto) { return this.zones.addRecord(name, dto); }

  @Get(':name/records')
  listRecords(@Param('name') name: string, @Query() q: Record<string, unknown>) { return this.zones.listRecords(name, parsePageQuery(q)); }

  @RequireScope('write')
  @Delete(':name/records/:id') @HttpCode(204)
  removeRecord(@Param('name') name: string, @Param('id') id: string) { return this.zones.removeRecord(name, id); }
}
