import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
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
  export() { return this.sync.exportDocument(); }

  @RequireScope('write')
  @Post('apply') @HttpCode(200)
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
