import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { WEBHOOK_ACCEPTED, WEBHOOK_ACCEPTED_EXAMPLE, WEBHOOK_BODY } from './health.openapi';
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
  @ApiContract({
    summary: 'Receive a signed health report from a region (Standard Webhooks)',
    description: 'Signed with the region\'s webhookSecret, else WEBHOOK_SECRET; no bearer token. Every unauthenticated delivery gets the same 401.',
    isPublic: true, status: 202, success: 'Accepted; the region\'s verdict after it', schema: WEBHOOK_ACCEPTED, example: WEBHOOK_ACCEPTED_EXAMPLE,
    errors: [400, 401, 404, 413, 503],
    errorText: { 401: 'Signature missing, not matching, too old or a replayed webhook-id (reason says which)', 404: 'A correctly signed report for a region that does not exist' },
  })
  @ApiBody({ schema: WEBHOOK_BODY, examples: { healthy: { value: { region: 'eu-west-1', status: 'healthy', reason: 'deploy finished', metrics: { replicationLagMs: 120 } } } } })
  @ApiHeader({ name: 'webhook-id', required: true, schema: { type: 'string' }, example: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', description: 'unique per message; a repeated id is refused as a replay' })
  @ApiHeader({ name: 'webhook-timestamp', required: true, schema: { type: 'string', pattern: '^[0-9]+$' }, example: '1765000000', description: 'Unix seconds; more than 5 minutes away from now is refused' })
  @ApiHeader({ name: 'webhook-signature', required: true, schema: { type: 'string' }, example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=', description: 'space-separated v1,<base64 HMAC-SHA256 of "id.timestamp.body">' })
  receive(@Req() req: RawBodyRequest<Request>) { return this.webhooks.receive(req.rawBody, req.headers); }
}
