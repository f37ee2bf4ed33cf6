import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiTags } from '@nestjs/swagger';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Request, Response } from 'express';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Public } from '../common/auth.guard';
import { clientAddress } from '../common/client-ip';
import { ApiContract, str } from '../common/openapi';
import { PROJECT_ROOT } from '../common/paths';
import { BEACON_CONFIG, BEACON_CONFIG_EXAMPLE, BEACON_RESULTS, INGEST_RESULT, INGEST_RESULT_EXAMPLE } from './measurements.openapi';
import { MeasurementsService } from './measurements.service';

/** The beacon script, read from the repository (the same path under ts-jest and from dist/). */
export const BEACON_SCRIPT = path.join(PROJECT_ROOT, 'src', 'measurements', 'public', 'beacon.js');

/**
 * The RUM beacon's public side (no bearer token; the service's beacon key instead): the script,
 * its configuration and the results it posts. Pages on any origin use them: CORS `*` (no
 * credentials) and Cross-Origin-Resource-Policy: cross-origin (helmet's default would block the
 * script tag).
 */
@ApiTags('measurements')
@Public()
@Controller()
export class BeaconController {
  private script: Buffer | null = null;

  constructor(
    private readonly measurements: MeasurementsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('beacon.js')
  @ApiContract({ summary: 'The RUM beacon script (no dependencies, cacheable)', isPublic: true, status: 200, schema: str(), contentType: 'text/javascript', example: '(function () { ... })();', errors: [] })
  async scriptFile(@Res() res: Response): Promise<void> {
    this.script ??= await fs.readFile(BEACON_SCRIPT);
    crossOrigin(res);
    res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.status(200).send(this.script);
  }

  @Get('v1/measurements/beacon')
  @ApiQuery({ name: 'key', required: true, schema: { type: 'string' }, example: 'bk_3u0mW1Pq3Xc2rYl9Zk1hN0aB' })
  @ApiContract({ summary: "The beacon's configuration for a key: the regions to time, the sampling rate", isPublic: true, status: 200, schema: BEACON_CONFIG, example: BEACON_CONFIG_EXAMPLE, errors: [403, 503] })
  config_(@Query('key') key: unknown, @Res({ passthrough: true }) res: Response) {
    crossOrigin(res);
    res.setHeader('Cache-Control', 'public, max-age=300');
    return this.measurements.beaconConfig(key);
  }

  @Post('v1/measurements/beacon') @HttpCode(202)
  @ApiContract({
    summary: 'Results from the beacon (text/plain or application/json); the client is the request\'s source address',
    isPublic: true, status: 202, success: 'Stored', schema: INGEST_RESULT, example: INGEST_RESULT_EXAMPLE, errors: [400, 403, 413, 503],
  })
  @ApiBody({ schema: BEACON_RESULTS, examples: { results: { value: { key: 'bk_3u0mW1Pq3Xc2rYl9Zk1hN0aB', results: [{ region: 'eu-west-1', rttMs: 21.4 }] } } } })
  results(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    crossOrigin(res);
    const client = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.trustedProxies);
    return this.measurements.beacon(body, client?.ip ?? null);
  }
}

function crossOrigin(res: Response): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
}
