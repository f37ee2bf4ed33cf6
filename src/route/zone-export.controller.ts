import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
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
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({
    summary: 'Export a zone as a BIND master file, as DNS answers it (routed names included)', status: 200, contentType: 'text/dns',
    schema: { type: 'string' }, example: '$ORIGIN example.com.\n$TTL 3600\n@\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. ( 4 3600 600 604800 300 )\n', errors: [404],
  })
  async export(@Param('name') name: string, @Res() res: Response) { res.type('text/dns; charset=utf-8').send(await this.exporter.export(name)); }
}
