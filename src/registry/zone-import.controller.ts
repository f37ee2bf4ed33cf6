import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { IMPORT_EXAMPLE, IMPORT_RESULT } from './registry.openapi';
import { DomainError } from '../common/domain-error';
import { ZoneImportService } from './zone-import.service';
import { RequireScope } from '../common/scopes';

/** A BIND master file into a zone (used by `npx georoute import FILE --zone NAME`). */
@ApiTags('zones')
@ApiBearerAuth()
@RequireScope('write')
@Controller('v1/zones')
export class ZoneImportController {
  constructor(private readonly importer: ZoneImportService) {}

  @Post(':name/import') @HttpCode(200)
  @ApiConsumes('text/dns', 'text/plain')
  @ApiBody({ description: 'BIND master file (RFC 1035 §5): $ORIGIN, $TTL, relative names, multi-line records', schema: { type: 'string', example: '$ORIGIN example.com.\n$TTL 300\nwww IN A 192.0.2.80\n' } })
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({
    summary: 'Import a BIND master file into a zone (the file replaces its records)',
    status: 200, schema: IMPORT_RESULT, example: IMPORT_EXAMPLE, errors: [400, 413, 503],
    errorText: { 400: 'Lines with problems (errors names each line), a new zone without SOA, or a bad parameter' },
  })
  @ApiQuery({ name: 'dryRun', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'skipInvalid', required: false, enum: ['true', 'false'], description: 'leave out the lines with problems instead of refusing the file' })
  import(@Param('name') name: string, @Body() text: unknown, @Query() q: Record<string, unknown>) {
    return this.importer.import(name, typeof text === 'string' ? text : '', importFlags(q));
  }
}

function importFlags(q: Record<string, unknown>): { dryRun: boolean; skipInvalid: boolean } {
  const flag = (name: string) => {
    const v = q[name];
    if (v === undefined || v === 'false') return false;
    if (v === 'true' || v === '') return true;
    throw DomainError.field(name, 'boolean', 'must be true or false');
  };
  for (const key of Object.keys(q)) if (key !== 'dryRun' && key !== 'skipInvalid') throw DomainError.field(key, 'unknown-parameter', 'is not a known query parameter (dryRun, skipInvalid)');
  return { dryRun: flag('dryRun'), skipInvalid: flag('skipInvalid') };
}
