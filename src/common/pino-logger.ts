import { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';

/**
 * Nest's logger interface over pino: one JSON object per line on stdout. Callers never log full
 * client addresses (see common/ip.ts truncateIp).
 */
/** Nest's own start-up chatter (one line per module and per route): debug, not info. */
const FRAMEWORK_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader', 'NestFactory', 'NestApplication']);

export class PinoLogger implements LoggerService {
  readonly pino: Pino;

  constructor(level: string, instance: string, destination?: pino.DestinationStream) {
    this.pino = pino({ level, base: { instance }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? pino.destination({ sync: false }));
  }

  log(message: unknown, context?: string): void {
    if (context !== undefined && FRAMEWORK_CONTEXTS.has(context)) this.pino.debug({ context }, String(message));
    else this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string): void {
    this.pino.fatal({ context }, String(message));
  }
  flush(): void {
    this.pino.flush();
  }
}
