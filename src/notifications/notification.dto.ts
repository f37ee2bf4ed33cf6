import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';
import { NOTIFICATION_EVENTS, type NotificationEvent } from './notification-events';

/** POST /v1/notifications */
export class CreateNotificationDto {
  @ApiProperty({ example: 'https://ops.example.net/hooks/georoute', description: 'http(s) URL the events are POSTed to (redirects are not followed)' })
  @IsString() @MaxLength(2000) @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'Signing secret (Standard Webhooks): whsec_<base64> or 24+ bytes; write-only' })
  @IsString() @MaxLength(500)
  secret!: string;

  @ApiProperty({ enum: NOTIFICATION_EVENTS, isArray: true, example: ['region.unhealthy', 'region.healthy'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(NOTIFICATION_EVENTS.length) @ArrayUnique() @IsIn(NOTIFICATION_EVENTS, { each: true, message: `each event must be one of ${NOTIFICATION_EVENTS.join(', ')}` })
  events!: NotificationEvent[];

  @ApiPropertyOptional({ example: 'pager for the SRE rota' })
  @IsOptional() @IsString() @MaxLength(200)
  description?: string;
}

export interface NotificationResponse {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  secretSet: true;
  createdBy: string;
  createdAt: string;
}

export interface DeliveryResponse {
  id: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  payload: unknown;
}
