import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { parsePageQuery } from '../common/paging';
import { CreateRegionDto, UpdateRegionDto } from './dto/region.dto';
import { RegionsService } from './regions.service';
import { RequireScope } from '../common/scopes';

@ApiTags('regions')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/regions')
export class RegionsController {
  constructor(private readonly regions: RegionsService) {}

  @RequireScope('write')
  @Post() @HttpCode(201)
  create(@Body() dto: CreateRegionDto) { return this.regions.create(dto); }

  @Get()
  list(@Query() q: Record<string, unknown>) { return this.regions.list(parsePageQuery(q)); }

  @Get(':name')
  get(@Param('name') name: string) { return this.regions.get(name); }

  @RequireScope('write')
  @Patch(':name')
  update(@Param('name') name: string, @Body() dto: UpdateRegionDto) { return this.regions.update(name, dto); }

  @RequireScope('write')
  @Delete(':name') @HttpCode(204)
  remove(@Param('name') name: string) { return this.regions.remove(name); }
}
