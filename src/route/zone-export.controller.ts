import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZoneExportService } from './zone-export.service';
import { RequireScope } from '../common/scopes';

@ApiTags('zones')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/zones')
export class ZoneExportController {
  constructor(private readonly exporter: ZoneExportService) {}

  @Get(':name/export')
  @ApiProduces('text/dns')
  async export(@Param('name') name: string, @Res() res: Response) { res.type('text/dns; charset=utf-8').send(await this.exporter.export(name)); }
}
