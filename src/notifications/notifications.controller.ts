import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract, PAGE_PARAMETERS } from '../common/openapi';
import { DELIVERIES_PAGE, DELIVERY_EXAMPLE, NOTIFICATION, NOTIFICATION_EXAMPLE, NOTIFICATIONS_PAGE, TEST_QUEUED } from './notifications.openapi';
import type { AuthenticatedRequest } from '../common/auth.guard';
import { parsePageQuery } from '../common/paging';
import { RequireScope } from '../common/scopes';
import { CreateNotificationDto } from './notification.dto';
import { NotificationsService } from './notifications.service';

/** Alert endpoints: signed Standard Webhooks for health transitions and promotions. */
@ApiTags('notifications')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @RequireScope('write')
  @Post() @HttpCode(201)
  @ApiContract({ summary: 'Add an alert endpoint (signed Standard Webhooks)', status: 201, schema: NOTIFICATION, example: NOTIFICATION_EXAMPLE, errors: [400, 413, 503], errorText: { 400: 'A bad field, or a URL the outbound policy refuses' } })
  create(@Body() dto: CreateNotificationDto, @Req() req: AuthenticatedRequest) { return this.notifications.create(dto, req.principal!); }

  @Get()
  @ApiContract({ summary: 'List alert endpoints (paged)', status: 200, schema: NOTIFICATIONS_PAGE, example: { items: [NOTIFICATION_EXAMPLE], nextCursor: null }, errors: [400, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  list(@Query() q: Record<string, unknown>) { return this.notifications.list(parsePageQuery(q)); }

  @Get(':id')
  @ApiParam({ name: 'id', example: '4707a3d414860bf0' })
  @ApiContract({ summary: 'Get an alert endpoint', status: 200, schema: NOTIFICATION, example: NOTIFICATION_EXAMPLE, errors: [404, 503] })
  get(@Param('id') id: string) { return this.notifications.get(id); }

  @RequireScope('write')
  @Delete(':id') @HttpCode(204)
  @ApiParam({ name: 'id', example: '4707a3d414860bf0' })
  @ApiContract({ summary: 'Delete an alert endpoint', status: 204, errors: [404, 503] })
  remove(@Param('id') id: string) { return this.notifications.remove(id); }

  @RequireScope('write')
  @Post(':id/test') @HttpCode(202)
  @ApiParam({ name: 'id', example: '4707a3d414860bf0' })
  @ApiContract({ summary: 'Queue a test notification to an endpoint', status: 202, success: 'Queued; see its deliveries', schema: TEST_QUEUED, example: { deliveryId: '1', eventType: 'notification.test' }, errors: [404, 503] })
  test(@Param('id') id: string) { return this.notifications.test(id); }

  @Get(':id/deliveries')
  @ApiParam({ name: 'id', example: '4707a3d414860bf0' })
  @ApiContract({ summary: "An endpoint's deliveries, newest first (paged)", status: 200, schema: DELIVERIES_PAGE, example: { items: [DELIVERY_EXAMPLE], nextCursor: null }, errors: [400, 404, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  deliveries(@Param('id') id: string, @Query() q: Record<string, unknown>) { return this.notifications.deliveries(id, parsePageQuery(q)); }
}
