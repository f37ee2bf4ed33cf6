import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RawBodyRequest } from '@nestjs/common';
import type { Request } from 'express';
import { Public } from '../common/auth.guard';
import { WebhookService } from './webhook.service';

/** Health reports pushed by regions, signed per the Standard Webhooks specification (no bearer token). */
@ApiTags('health')
@Public()
@Controller('v1/health/webhook')
export class WebhookController {
  constructor(private readonly webhooks: WebhookService) {}

  @Post() @HttpCode(202)
  receive(@Req() req: RawBodyRequest<Request>) { return this.webhooks.receive(req.rawBody, req.headers); }
}
