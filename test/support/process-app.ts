import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { LOOPBACK, REPO_ROOT } from './test-app';

/**
 * georoute as a real process (dist/src/main.js), for multi-instance tests.
 * Every process started here is killed after the test file that started it, whatever its tests
 * did: one left running keeps Jest from exiting, and CI waits on it until its time runs out.
 */
export interface ProcessApp {
  child: ChildProcess;
  httpPort: number;
  dnsPort: number;
  output: string[];
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
afterAll(async () => {
  await Promise.all([...running].map((child) => stopChild(child)));
});

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10000).unref();
  });
}

/**
 * Starts georoute and resolves once it says where it listens. `watch` sees the output as it
 * comes (stdout and stderr), before the start resolves: a test can act on a line it expects.
 */
export function startProcess(env: Record<string, string>, timeoutMs = 60000, watch?: (text: string) => void): Promise<ProcessApp> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/src/main.js')], {
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', DNS_PORT: '0', LOG_LEVEL: 'info', RRL_EXEMPT: LOOPBACK, OUTBOUND_ALLOW: LOOPBACK, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(new Error(`georoute did not start within ${timeoutMs} ms:\n${output.join('')}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      watch?.(output.join(''));
      const m = /HTTP http:\/\/[^:]+:(\d+) DNS [^:]+:(\d+)/.exec(output.join(''));
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          httpPort: Number(m[1]),
          dnsPort: Number(m[2]),
          output,
          stop: () => stopChild(child),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      output.push(c.toString('utf8'));
      watch?.(output.join(''));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`georoute exited with ${code}:\n${output.join('')}`));
    });
  });
}
