import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { parsePageQuery } from '../common/paging';
import { CreateRegionDto, UpdateRegionDto } from './dto/region.dto';
import { RegionsService } from './regions.service';

@ApiTags('regions')
@ApiBearerAuth()
@Controller('v1/regions')
export class RegionsController {
  constructor(private readonly regions: RegionsService) {}

  @Post() @HttpCode(201)
  create(@Body() dto: CreateRegionDto) { return this.regions.create(dto); }

  @Get()
  list(@Query() q: Record<string, unknown>) { return this.regions.list(parsePageQuery(q)); }

  @Get(':name')
  get(@Param('name') name: string) { return this.regions.get(name); }

  @Patch(':name')
  update(@Param('name') name: string, @Body() dto: UpdateRegionDto) { return this.regions.update(name, dto); }

  @Delete(':name') @HttpCode(204)
  remove(@Param('name') name: string) { return this.regions.remove(name); }
}
