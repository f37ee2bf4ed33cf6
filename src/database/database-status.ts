import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from './db-errors';

/**
 * Whether this instance has its database. When it starts while PostgreSQL is unreachable and a
 * last good snapshot is on disk, start-up goes on without it (DNS and redirects serve the disk
 * snapshot) and this keeps trying in the background: connect, migrate, then tell listeners.
 */
export class DatabaseStatus {
  private readonly logger = new Logger('database');
  private readonly listeners: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  lastError: string | null = null;

  constructor(private readonly retryMs = 2000) {}

  /** Registers work to do once the database is connected (at once if it already is). */
  whenConnected(ds: DataSource, fn: () => void | Promise<void>): void {
    const run = () => {
      Promise.resolve(fn()).catch((err) => this.logger.error(`after reconnect: ${(err as Error).message}`));
    };
    if (ds.isInitialized) run();
    else this.listeners.push(run);
  }

  /** Initialises `ds` in the background until it works, then runs `migrate` and the listeners. */
  retryInBackground(ds: DataSource, migrate: () => Promise<unknown>): void {
    const attempt = async () => {
      if (this.stopped) return;
      try {
        if (!ds.isInitialized) await ds.initialize();
        await migrate();
        this.lastError = null;
        this.logger.log('database connected: leaving static-stability mode');
        for (const fn of this.listeners.splice(0)) fn();
      } catch (err) {
        this.lastError = (err as Error).message;
        if (!isDatabaseUnavailable(err)) this.logger.error(`database start failed: ${this.lastError}`);
        this.timer = setTimeout(attempt, this.retryMs);
        this.timer.unref();
      }
    };
    this.timer = setTimeout(attempt, this.retryMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
