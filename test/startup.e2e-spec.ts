import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './support/test-app';

describe('process start-up', () => {
  it('stops with exit code 2 and one message naming every bad variable', () => {
    const res = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/src/main.js')], {
      env: { PATH: process.env.PATH, HTTP_PORT: 'eighty', LOG_LEVEL: 'chatty', DATA_DIR: '/tmp/georoute-never-created' },
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(res.status).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('HTTP_PORT');
    expect(lines[0]).toContain('LOG_LEVEL');
  });
});
