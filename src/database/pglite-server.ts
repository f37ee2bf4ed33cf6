/**
 * The embedded database process: PGlite (PostgreSQL in WASM) behind its socket server on a Unix
 * socket, `<socket directory>/.s.PGSQL.5432` (the name libpq and pg look for), the directory
 * 0700 and the socket 0600: only the user georoute runs as (and root) can connect — PGlite's
 * socket server has no authentication, so no TCP port is opened at all. Started by
 * EmbeddedPostgres as a child process, so the database's work never competes with the DNS hot
 * path on the main event loop. Protocol with the parent: one JSON line on stdout when ready
 * ({"socket": path}) or on failure ({"error": "..."}); it stops (closing the database cleanly)
 * on SIGTERM, SIGINT or when stdin closes (the parent went away).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** sun_path holds 108 bytes with the terminating NUL on Linux (104 on BSDs): stay under both. */
const MAX_SOCKET_PATH_BYTES = 103;

/** The flag of the short-lived run that initialises a new data directory. */
const INITIALISE = '--initialise';

/**
 * A new data directory is initialised by a run of this script of its own, which then exits:
 * PGlite's first-time initdb leaves its WASM memory with the process that ran it (823 MB RSS
 * against 279 MB for the same directory opened afterwards), and the server would have kept it
 * for its whole life. It costs the first start one more open of the directory (~0.4 s).
 */
async function initialise(dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return;
  const child = spawn(process.execPath, [__filename, INITIALISE, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`initialising the data directory ${dir} failed (exit code ${code})`);
}

async function main(): Promise<void> {
  if (process.argv[2] === INITIALISE) {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(process.argv[3]);
    await db.close();
    process.exit(0);
  }
  const [dir, socketDir] = process.argv.slice(2);
  if (!dir || !socketDir) throw new Error('usage: pglite-server <data directory> <socket directory>');
  fs.mkdirSync(dir, { recursive: true });
  const socket = path.join(socketDir, '.s.PGSQL.5432');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`the socket path ${socket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes (a Unix socket limit): use a shorter DATA_DIR`);
  }
  // 0700 before the socket exists: no moment in which another user could connect.
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(socketDir, 0o700);
  fs.rmSync(socket, { force: true });
  await initialise(dir);
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, path: socket, maxConnections: 16 });
  await server.start();
  fs.chmodSync(socket, 0o600);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.stdout.write(JSON.stringify({ socket }) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n');
  process.exit(1);
});
