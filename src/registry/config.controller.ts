import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { APPLY_EXAMPLE, APPLY_RESULT, CONFIG_DOCUMENT, CONFIG_EXAMPLE } from './registry.openapi';
import { DomainError } from '../common/domain-error';
import { ApplyOptions, ConfigSyncService } from './config-sync.service';
import { RequireScope } from '../common/scopes';

/** Configuration as code (used by `npx georoute export` and `npx georoute apply`). */
@ApiTags('config')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/config')
export class ConfigController {
  constructor(private readonly sync: ConfigSyncService) {}

  @Get('export')
  @ApiContract({ summary: 'Export the registry as a configuration document', description: 'What `npx georoute export` writes; secrets are left out.', status: 200, schema: CONFIG_DOCUMENT, example: CONFIG_EXAMPLE, errors: [503] })
  export() { return this.sync.exportDocument(); }

  @RequireScope('write')
  @Post('apply') @HttpCode(200)
  @ApiContract({
    summary: 'Make the registry match a configuration document',
    description: 'All or nothing in one transaction; dryRun reports the same changes and rolls back.',
    status: 200, schema: APPLY_RESULT, example: APPLY_EXAMPLE, errors: [400, 404, 409, 413, 503],
    errorText: { 409: 'A destructive prune without allowDestroy, or a conflict between the document and the registry' },
  })
  @ApiBody({ schema: CONFIG_DOCUMENT, examples: { document: { value: CONFIG_EXAMPLE } } })
  @ApiQuery({ name: 'dryRun', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'prune', required: false, enum: ['true', 'false'], description: 'also delete what the document does not name' })
  @ApiQuery({ name: 'allowDestroy', required: false, enum: ['true', 'false'], description: 'let a prune delete a zone or more than half of the regions or services (409 otherwise)' })
  apply(@Body() doc: Record<string, unknown>, @Query() q: Record<string, unknown>) { return this.sync.apply(doc, parseFlags(q)); }
}

const FLAGS = ['dryRun', 'prune', 'allowDestroy'] as const;

function parseFlags(q: Record<string, unknown>): ApplyOptions {
  const flag = (name: string) => {
    const v = q[name];
    if (v === undefined || v === 'false') return false;
    if (v === 'true' || v === '') return true;
    throw DomainError.field(name, 'boolean', 'must be true or false');
  };
  for (const key of Object.keys(q)) if (!(FLAGS as readonly string[]).includes(key)) throw DomainError.field(key, 'unknown-parameter', `is not a known query parameter (${FLAGS.join(', ')})`);
  return { dryRun: flag('dryRun'), prune: flag('prune'), allowDestroy: flag('allowDestroy') };
}
