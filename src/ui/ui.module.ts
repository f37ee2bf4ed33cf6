import { Module } from '@nestjs/common';
import { LiveController } from './live.controller';
import { UiController } from './ui.controller';

/**
 * The operator dashboard: static files under src/ui/public served at /ui (public, strict CSP),
 * and a live event stream at /v1/events/stream (bearer token, like every /v1 route).
 */
@Module({ controllers: [UiController, LiveController] })
export class UiModule {}
