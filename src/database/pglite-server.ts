/**
 * The embedded database process: PGlite (PostgreSQL in WASM) behind its socket server on a free
 * loopback port. Started by EmbeddedPostgres as a child process, so the database's work never
 * competes with the DNS hot path on the main event loop. Protocol with the parent: one JSON line
 * on stdout when ready ({"port": N}) or on failure ({"error": "..."}); it stops (closing the
 * database cleanly) on SIGTERM, SIGINT or when stdin closes (the parent went away).
 */
import * as fs from 'node:fs';

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: pglite-server <data directory>');
  fs.mkdirSync(dir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  const port = (server as unknown as { server: { address(): { port: number } } }).server.address().port;
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
  process.stdout.write(JSON.stringify({ port }) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n');
  process.exit(1);
});
