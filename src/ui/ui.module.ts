import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';
import { LiveController } from './live.controller';
import { TrafficService } from './traffic.service';
import { UiController } from './ui.controller';

/**
 * The operator dashboard: static files under src/ui/public served at /ui (public, strict CSP),
 * a live event stream at /v1/events/stream and /v1/dashboard/session and /traffic (bearer
 * token, like every /v1 route).
 */
@Module({ controllers: [UiController, LiveController, DashboardController], providers: [TrafficService] })
export class UiModule {}
