import { Body, Controller, Get, Headers, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { DomainError, FieldProblem } from '../common/domain-error';
import { AnycastService } from './anycast.service';
import { RequireScope } from '../common/scopes';

@ApiTags('anycast')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/anycast')
export class AnycastController {
  constructor(private readonly anycast: AnycastService) {}

  @RequireScope('write')
  @Put('topology')
  @ApiConsumes('text/plain', 'application/json')
  @ApiBody({ description: 'CAIDA as-relationship text (a|b|-1, a|b|0) or JSON { ases: [...], links: [...] }' })
  load(@Body() body: unknown, @Headers('content-type') type: string | undefined) { return this.anycast.load(body, type); }

  @Get('topology')
  topology() { return this.anycast.describe(); }

  @Post('simulate') @HttpCode(200)
  @ApiBody({ schema: { example: { withdrawn: ['eu-west-1'], useHealth: true, clients: [3356, 64512] } } })
  simulate(@Body() body: Record<string, unknown>) { return this.anycast.simulate(parseSimulate(body)); }

  @Get('route')
  route(@Query('asn') asn: unknown) { return this.anycast.route(asn); }
}

function parseSimulate(body: Record<string, unknown> | undefined) {
  const b = body ?? {};
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(b)) {
    if (!['withdrawn', 'useHealth', 'clients'].includes(key)) problems.push({ field: key, rule: 'unknown-field', message: 'is not a known field' });
  }
  const withdrawn = b.withdrawn ?? [];
  if (!Array.isArray(withdrawn) || !withdrawn.every((w) => typeof w === 'string')) problems.push({ field: 'withdrawn', rule: 'array', message: 'must be a list of region names' });
  const useHealth = b.useHealth ?? true;
  if (typeof useHealth !== 'boolean') problems.push({ field: 'useHealth', rule: 'boolean', message: 'must be true or false' });
  const clients = b.clients ?? [];
  if (!Array.isArray(clients) || clients.length > 1000 || !clients.every((c) => Number.isInteger(c) && c >= 1 && c <= 4294967295)) {
    problems.push({ field: 'clients', rule: 'asn-list', message: 'must be a list of at most 1000 AS numbers' });
  }
  if (problems.length > 0) throw DomainError.validation(problems);
  return { withdrawn: withdrawn as string[], useHealth: useHealth as boolean, clients: clients as number[] };
}
