import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import type { Response } from 'express';
import { Public } from '../common/auth.guard';
import { MetricsService } from './metrics.service';

@ApiTags('ops')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiContract({
    summary: 'Prometheus metrics (text exposition format)', isPublic: true, status: 200, contentType: 'text/plain',
    schema: { type: 'string' }, example: '# HELP georoute_dns_responses_total DNS replies sent, by rcode and transport\n# TYPE georoute_dns_responses_total gauge\ngeoroute_dns_responses_total{rcode="NOERROR",transport="udp"} 12\n', errors: [],
  })
  async scrape(@Res() res: Response) { res.type(this.metrics.contentType).send(await this.metrics.render()); }
}
