import { Controller, Get, Res } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { LIVENESS, READINESS, READINESS_EXAMPLE } from './ops.openapi';
import type { Response } from 'express';
import { Public } from '../common/auth.guard';
import { ReadinessService } from './readiness.service';

/** Unauthenticated operations endpoints for load balancers and orchestrators. */
@ApiTags('ops')
@Public()
@Controller()
export class OpsController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('healthz')
  @ApiContract({ summary: 'Liveness: the process answers', isPublic: true, status: 200, schema: LIVENESS, example: { status: 'ok' }, errors: [] })
  healthz() { return { status: 'ok' }; }

  @Get('readyz')
  @ApiContract({ summary: 'Readiness: a snapshot is loaded and DNS is listening', isPublic: true, status: 200, success: 'Ready', schema: READINESS, example: READINESS_EXAMPLE, errors: [] })
  @ApiResponse({ status: 503, description: 'Not ready: the same document, with the failing checks (load balancers read the status)', content: { 'application/json': { schema: READINESS, example: { ...READINESS_EXAMPLE, ready: false, checks: [{ name: 'snapshot', ok: false, detail: 'version 0 from none' }] } } } })
  async readyz(@Res() res: Response) {
    const r = await this.readiness.check();
    res.status(r.ready ? 200 : 503).json(r);
  }
}
