import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { PROJECT_ROOT } from '../common/paths';

/**
 * The embedded default database: PGlite behind its socket server, in a child process
 * (pglite-server.ts), so the application always speaks the PostgreSQL wire protocol through `pg`
 * and runs the same migrations as against a real server. Data lives under <dataDir>/pglite.
 *
 * PGlite is one backend: the socket server multiplexes connections onto it query by query, so
 * the application's pool against it must hold a single connection (transactions from two pooled
 * connections would interleave on the one backend).
 *
 * It accepts only this user: the server listens on a Unix socket in <dataDir>/run (directory
 * 0700, socket 0600), never on TCP, since PGlite's socket server asks for no password.
 */
export class EmbeddedPostgres {
  private readonly logger = new Logger('database');
  private child: ChildProcess | null = null;
  /** The Unix socket the server listens on, once started. */
  socket = '';

  constructor(private readonly dataDir: string) {}

  /** The directory holding the socket (pg's `host` for a Unix socket). */
  get socketDir(): string {
    return path.join(this.dataDir, 'run');
  }

  get url(): string {
    return `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(this.socketDir)}`;
  }

  /** The database process, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  static serverScript(): string {
    const beside = path.join(__dirname, 'pglite-server.js');
    return fs.existsSync(beside) ? beside : path.join(PROJECT_ROOT, 'dist/src/database/pglite-server.js');
  }

  async start(): Promise<string> {
    const dir = path.join(this.dataDir, 'pglite');
    const started = Date.now();
    this.socket = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [EmbeddedPostgres.serverScript(), dir, this.socketDir], { stdio: ['pipe', 'pipe', 'inherit'] });
      this.child = child;
      let buf = '';
      const onData = (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        child.stdout!.off('data', onData);
        try {
          const msg = JSON.parse(buf.slice(0, nl));
          if (typeof msg.socket === 'string') resolve(msg.socket);
          else reject(new Error(`embedded database did not start: ${msg.error ?? buf}`));
        } catch {
          reject(new Error(`embedded database said: ${buf.slice(0, 200)}`));
        }
      };
      child.stdout!.on('data', onData);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`embedded database exited with code ${code} before it was ready`)));
    });
    this.child!.once('exit', (code) => {
      if (this.child) this.logger.error(`embedded database process exited unexpectedly (code ${code})`);
    });
    this.logger.log(`embedded PostgreSQL (PGlite) at ${dir} listening on ${this.socket} (mode 0600, no TCP) (${Date.now() - started} ms)`);
    return this.url;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
