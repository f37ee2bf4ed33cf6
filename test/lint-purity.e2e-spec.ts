import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './support/test-app';

/** The routing engine stays pure: the lint configuration refuses framework imports under src/routing. */
function lint(code: string, file: string): { ruleId: string | null; message: string }[] {
  const res = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', file, '-f', 'json'], {
    cwd: REPO_ROOT,
    input: code,
    encoding: 'utf8',
  });
  return JSON.parse(res.stdout)[0].messages;
}

describe('ESLint purity rule for src/routing', () => {
  it.each([
    ["import { Injectable } from '@nestjs/common';", 'NestJS'],
    ["import { DataSource } from 'typeorm';", 'TypeORM'],
    ["import { Packet } from 'dns2';", 'dns2'],
  ])('refuses %s', (line, what) => {
    const messages = lint(`${line}\nexport const x = 1;\n`, 'src/routing/impure.ts').filter((m) => m.ruleId === 'no-restricted-imports');
    expect(messages).toHaveLength(1);
    expect(messages[0].message).toContain(what);
  });

  it('allows the same import outside src/routing', () => {
    const messages = lint("import { Injectable } from '@nestjs/common';\nexport const x = Injectable;\n", 'src/dns/fine.ts');
    expect(messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });
});
