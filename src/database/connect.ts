import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable, redactedUrl } from './db-errors';

/** First pause between attempts; doubles up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 250;
const MAX_PAUSE_MS = 5000;

/** A start-up database failure, naming the variable and what was tried. */
export class DatabaseConnectError extends Error {}

/**
 * Initialises `ds`, retrying while the server cannot be reached (not started yet, restarting: a
 * compose start where PostgreSQL comes up a second after georoute) with backoff, for at most
 * `timeoutMs` (0: one attempt). Errors that waiting cannot fix (a wrong password, a database that
 * does not exist) fail at once. Either way the error names `variable` and the URL without its
 * password, so the operator knows what to fix.
 */
export async function connectWithin(ds: DataSource, url: string, variable: string, timeoutMs: number, logger = new Logger('database')): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pause = FIRST_PAUSE_MS;
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      await ds.initialize();
      if (attempt > 1) logger.log(`connected to ${variable} after ${attempt} attempts`);
      return;
    } catch (err) {
      const reason = (err as Error).message;
      const where = variable === 'DATABASE_URL' ? `DATABASE_URL=${redactedUrl(url)}` : `${variable} (${redactedUrl(url)})`;
      if (!isDatabaseUnavailable(err)) throw new DatabaseConnectError(`${where}: ${reason}`, { cause: err });
      const left = deadline - Date.now();
      if (left <= 0) {
        const waited = timeoutMs > 0 ? ` (retried for ${Math.round(timeoutMs / 1000)} s, DATABASE_CONNECT_TIMEOUT_SECONDS)` : '';
        throw new DatabaseConnectError(`${where}: cannot connect: ${reason}${waited}`, { cause: err });
      }
      const wait = Math.min(pause, left);
      logger.warn(`${where}: cannot connect yet (${reason}); retrying in ${(wait / 1000).toFixed(2)} s`);
      await new Promise((resolve) => setTimeout(resolve, wait));
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }
}
