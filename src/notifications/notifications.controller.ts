import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
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
  create(@Body() dto: CreateNotificationDto, @Req() req: AuthenticatedRequest) { return this.notifications.create(dto, req.principal!); }

  @Get()
  list(@Query() q: Record<string, unknown>) { return this.notifications.list(parsePageQuery(q)); }

  @Get(':id')
  get(@Param('id') id: string) { return this.notifications.get(id); }

  @RequireScope('write')
  @Delete(':id') @HttpCode(204)
  remove(@Param('id') id: string) { return this.notifications.remove(id); }

  @RequireScope('write')
  @Post(':id/test') @HttpCode(202)
  test(@Param('id') id: string) { return this.notifications.test(id); }

  @Get(':id/deliveries')
  deliveries(@Param('id') id: string, @Query() q: Record<string, unknown>) { return this.notifications.deliveries(id, parsePageQuery(q)); }
}
