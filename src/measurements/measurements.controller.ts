import { Body, Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { RequireScope, type Principal } from '../common/scopes';
import { BEACON_KEY, BEACON_KEY_BODY, BEACON_KEY_EXAMPLE, INGEST_RESULT, INGEST_RESULT_EXAMPLE, MEASUREMENT_BATCH, MEASUREMENT_BATCH_EXAMPLE, SUMMARY, SUMMARY_EXAMPLE } from './measurements.openapi';
import { list } from '../common/openapi';
import { MeasurementsService } from './measurements.service';

/** Measured latency for the `latency` policy: the server-side feed, coverage, beacon keys. */
@ApiTags('measurements')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/measurements')
export class MeasurementsController {
  constructor(private readonly measurements: MeasurementsService) {}

  @RequireScope('measurements:report')
  @Post() @HttpCode(202)
  @ApiContract({
    summary: 'Report RTTs seen by a load balancer or synthetic agent (the token is the source)',
    description: 'A bad item refuses the whole batch (400 naming each problem) and stores nothing. Clients are truncated to their /24 or /48 on arrival.',
    status: 202, success: 'Stored (stale and rate-limited items counted, not stored)', schema: INGEST_RESULT, example: INGEST_RESULT_EXAMPLE, errors: [400, 413, 503],
  })
  @ApiBody({ schema: MEASUREMENT_BATCH, examples: { batch: { value: MEASUREMENT_BATCH_EXAMPLE } } })
  report(@Body() body: unknown, @Req() req: { principal?: Principal }) { return this.measurements.report(body, req.principal?.name ?? 'unknown'); }

  @Get('summary')
  @ApiQuery({ name: 'service', required: true, schema: { type: 'string' }, example: 'app.example.com' })
  @ApiContract({ summary: "Per-region coverage of a service's latency evidence", status: 200, schema: SUMMARY, example: SUMMARY_EXAMPLE, errors: [400, 404, 503] })
  summary(@Query('service') service: unknown) { return this.measurements.summary(service); }

  @Get('beacon-keys')
  @ApiContract({ summary: 'Every service\'s beacon key', status: 200, schema: list(BEACON_KEY), example: [BEACON_KEY_EXAMPLE], errors: [503] })
  keys() { return this.measurements.listBeaconKeys(); }

  @RequireScope('write')
  @Post('beacon-keys') @HttpCode(201)
  @ApiContract({ summary: "Create or rotate a service's public beacon key (probe path, sampling)", status: 201, schema: BEACON_KEY, example: BEACON_KEY_EXAMPLE, errors: [400, 404, 503] })
  @ApiBody({ schema: BEACON_KEY_BODY, examples: { key: { value: { service: 'app.example.com', probePath: '/georoute-probe', sampleRate: 0.1 } } } })
  putKey(@Body() body: unknown) { return this.measurements.putBeaconKey(body); }
}
