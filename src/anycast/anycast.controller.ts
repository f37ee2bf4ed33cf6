import { Body, Controller, Get, Headers, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { ROUTE, ROUTE_EXAMPLE, SIMULATE_BODY, SIMULATION, SIMULATION_EXAMPLE, TOPOLOGY, TOPOLOGY_EXAMPLE, TOPOLOGY_JSON } from './anycast.openapi';
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
  @ApiBody({
    description: 'CAIDA as-relationship text (a|b|-1, a|b|0) or JSON { ases: [...], links: [...] }',
    schema: { oneOf: [{ type: 'string', example: '1|10|-1\n1|20|-1\n10|11|-1\n' }, TOPOLOGY_JSON] },
  })
  @ApiContract({
    summary: 'Load the AS-level topology the anycast simulator uses (replaces the current one)',
    status: 200, schema: TOPOLOGY, example: TOPOLOGY_EXAMPLE, errors: [400, 413, 503], errorText: { 400: 'The topology has problems (errors names each line or JSON path)', 503: 'The database is unavailable, or the anycast worker did not answer in time (the machine had no idle CPU for it); Retry-After' },
  })
  load(@Body() body: unknown, @Headers('content-type') type: string | undefined) { return this.anycast.load(body, type); }

  @Get('topology')
  @ApiContract({ summary: 'The loaded topology, summarised ({ loaded: false } before one is)', status: 200, schema: TOPOLOGY, example: TOPOLOGY_EXAMPLE, errors: [] })
  topology() { return this.anycast.describe(); }

  @Post('simulate') @HttpCode(200)
  @ApiBody({ schema: SIMULATE_BODY, examples: { withdrawal: { value: { withdrawn: ['eu-west-1'], useHealth: true, clients: [3356, 64512] } } } })
  @ApiContract({
    summary: "Simulate BGP: each region's catchment with some sites withdrawn",
    status: 200, schema: SIMULATION, example: SIMULATION_EXAMPLE, errors: [400, 409, 413, 503],
    errorText: { 409: 'No topology is loaded, or no region has anycast settings', 429: 'The simulator is busy (Retry-After)', 503: 'The anycast worker did not answer in time (the machine had no idle CPU for it; Retry-After)' },
  })
  simulate(@Body() body: Record<string, unknown>) { return this.anycast.simulate(parseSimulate(body)); }

  @Get('route')
  @ApiQuery({ name: 'asn', required: true, schema: { type: 'integer', minimum: 1, maximum: 4294967295 }, example: 3356, description: 'the client AS' })
  @ApiContract({
    summary: 'Which region an AS reaches over anycast, and the AS path',
    status: 200, schema: ROUTE, example: ROUTE_EXAMPLE, errors: [400, 404, 409, 503], errorText: { 404: 'The AS is not in the topology', 409: 'No topology is loaded, or no region has anycast settings', 503: 'The anycast worker did not answer in time (the machine had no idle CPU for it; Retry-After)' },
  })
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
