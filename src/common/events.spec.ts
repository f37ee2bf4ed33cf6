import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import {
  EventBus, HEALTH_CHANGED, HealthChangedEvent, LagReportedEvent, OnAppEvent, REGISTRY_CHANGED, REPLICATION_LAG_REPORTED, RegistryChangedEvent,
} from './events';

@Injectable()
class Recorder {
  readonly seen: unknown[] = [];

  @OnAppEvent(REGISTRY_CHANGED)
  onRegistry(event: RegistryChangedEvent): void {
    this.seen.push(['registry', event.kind, event.name]);
  }

  @OnAppEvent(HEALTH_CHANGED)
  onHealth(event: HealthChangedEvent): void {
    this.seen.push(['health', event.kind]);
  }

  @OnAppEvent(REPLICATION_LAG_REPORTED)
  async onLag(event: LagReportedEvent): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.seen.push(['lag', event.region, event.report.kind]);
  }
}

@Module({ imports: [EventEmitterModule.forRoot()], providers: [EventBus, Recorder] })
class EventsTestModule {}

describe('EventBus and @OnAppEvent (a real Nest application context)', () => {
  async function start() {
    const app = await NestFactory.createApplicationContext(EventsTestModule, { logger: false });
    return { app, bus: app.get(EventBus), recorder: app.get(Recorder) };
  }

  it('delivers each event to the methods decorated with its name, synchronously', async () => {
    const { app, bus, recorder } = await start();
    bus.emit(REGISTRY_CHANGED, { kind: 'region', name: 'eu-west-1' });
    bus.emit(HEALTH_CHANGED, { kind: 'reload' });
    expect(recorder.seen).toEqual([['registry', 'region', 'eu-west-1'], ['health', 'reload']]);
    await app.close();
  });

  it('emitAndWait resolves after async listeners finish; emit does not wait', async () => {
    const { app, bus, recorder } = await start();
    bus.emit(REPLICATION_LAG_REPORTED, { region: 'eu-west-1', report: { kind: 'all', lagMs: 5 }, at: 0 });
    expect(recorder.seen).toEqual([]);
    await bus.emitAndWait(REPLICATION_LAG_REPORTED, { region: 'eu-central-1', report: { kind: 'all', lagMs: 5 }, at: 0 });
    expect(recorder.seen).toContainEqual(['lag', 'eu-central-1', 'all']);
    await app.close();
  });
});
