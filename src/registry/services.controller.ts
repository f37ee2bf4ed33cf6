import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { parsePageQuery } from '../common/paging';
import { CreateServiceDto, UpdateServiceDto } from './dto/service.dto';
import { ServicesService } from './services.service';
import { RequireScope } from '../common/scopes';

@ApiTags('services')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/services')
export class ServicesController {
  constructor(private readonly services: ServicesService) {}

  @RequireScope('write')
  @Post() @HttpCode(201)
  create(@Body() dto: CreateServiceDto) { return this.services.create(dto); }

  @Get()
  list(@Query() q: Record<string, unknown>) { return this.services.list(parsePageQuery(q)); }

  @Get(':fqdn')
  get(@Param('fqdn') fqdn: string) { return this.services.get(fqdn); }

  @RequireScope('write')
  @Patch(':fqdn')
  update(@Param('fqdn') fqdn: string, @Body() dto: UpdateServiceDto) { return this.services.update(fqdn, dto); }

  @RequireScope('write')
  @Delete(':fqdn') @HttpCode(204)
  remove(@Param('fqdn') fqdn: string) { return this.services.remove(fqdn); }
}
