import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
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
  healthz() { return { status: 'ok' }; }

  @Get('readyz')
  async readyz(@Res() res: Response) {
    const r = await this.readiness.check();
    res.status(r.ready ? 200 : 503).json(r);
  }
}
