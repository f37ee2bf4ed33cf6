import { Controller, Get, OnModuleDestroy, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import type { Request, Response } from 'express';
import { DomainError, ErrorCode } from '../common/domain-error';
import { HEALTH_CHANGED, HealthChangedEvent, OnAppEvent, REGISTRY_CHANGED, RegistryChangedEvent } from '../common/events';
import { RequireScope } from '../common/scopes';

/** At most this many open streams per instance; more get 503 (the dashboard then polls). */
export const MAX_STREAMS = 100;
const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events for the dashboard: `health` ({ region, from, to }) on every health transition
 * ({ region: "*" } when the verdicts were re-read from the database) and `registry` ({ kind, name })
 * on every committed registry change, plus a comment line every 15 s so idle proxies keep the
 * connection. It is a normal bearer-protected route: the page reads
 * it with fetch() (EventSource cannot send an Authorization header, and a token in the URL would
 * end up in logs). The events only say what changed; the page then re-reads the API.
 */
@ApiTags('events')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/events')
export class LiveController implements OnModuleDestroy {
  private readonly streams = new Set<Response>();
  private heartbeat: NodeJS.Timeout | null = null;
  private nextId = 1;

  @Get('stream')
  @ApiContract({
    summary: 'Live stream of health transitions and registry changes (text/event-stream)',
    description: 'Events: ready, health ({ region, from, to }), registry ({ kind, name }); a comment line every 15 s.',
    status: 200, contentType: 'text/event-stream', schema: { type: 'string' },
    example: 'id: 1\nevent: ready\ndata: {"at":"2026-12-06T01:48:29.000Z"}\n\nid: 2\nevent: health\ndata: {"region":"eu-west-1","from":"healthy","to":"unhealthy"}\n\n',
    errors: [503], errorText: { 503: 'Too many open streams on this instance; poll the API instead' },
  })
  stream(@Req() req: Request, @Res() res: Response): void {
    if (this.streams.size >= MAX_STREAMS) {
      throw new DomainError(ErrorCode.Unavailable, `too many open event streams (limit ${MAX_STREAMS}); poll the API instead`);
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    this.streams.add(res);
    this.write(res, 'ready', { at: new Date().toISOString() });
    const forget = () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.stopHeartbeat();
    };
    req.on('close', forget);
    res.on('error', forget);
    this.startHeartbeat();
  }

  @OnAppEvent(HEALTH_CHANGED)
  onHealthChanged(event: HealthChangedEvent): void {
    this.broadcast('health', event.kind === 'transition' ? { region: event.region, from: event.from, to: event.to } : { region: '*' });
  }

  @OnAppEvent(REGISTRY_CHANGED)
  onRegistryChanged(event: RegistryChangedEvent): void {
    this.broadcast('registry', { kind: event.kind, name: event.name });
  }

  /** Ends every stream before the HTTP server closes (an open stream would keep it waiting). */
  onModuleDestroy(): void {
    this.stopHeartbeat();
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private broadcast(event: string, data: unknown): void {
    for (const res of this.streams) this.write(res, event, data);
  }

  private write(res: Response, event: string, data: unknown): void {
    if (res.writableEnded) return;
    res.write(`id: ${this.nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const res of this.streams) if (!res.writableEnded) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
