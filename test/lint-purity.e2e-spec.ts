import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './support/test-app';

interface Message {
  ruleId: string | null;
  message: string;
}

/** Lints each snippet as if it were the named file, with the repository's ESLint configuration, in one ESLint process. */
function lintAll(snippets: readonly { code: string; file: string }[]): Message[][] {
  const script = `
    import { ESLint } from 'eslint';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = [];
    for (const { code, file } of JSON.parse(input)) {
      const [result] = await eslint.lintText(code, { filePath: file });
      out.push(result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })));
    }
    process.stdout.write(JSON.stringify(out));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, input: JSON.stringify(snippets), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`eslint failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

const ROUTING_CASES: [string, string, string][] = [
  ["import { Injectable } from '@nestjs/common';", 'src/routing/impure.ts', 'NestJS'],
  ["import { DataSource } from 'typeorm';", 'src/routing/impure.ts', 'TypeORM'],
  ["import { Packet } from 'dns2';", 'src/routing/impure.ts', 'dns2'],
  ["import { normalizeName } from '../common/dns-name';", 'src/routing/impure.ts', 'common/dns-name'],
  ["import type { SnapshotStore } from '../../snapshot/snapshot.store';", 'src/routing/bgp/impure.ts', 'snapshot/snapshot.store'],
  ["export { DnsResponder } from '../dns/responder';", 'src/routing/impure.ts', 'dns/responder'],
];
const ROUTING_ALLOWED: [string, string][] = [
  ["import type { RoutingSnapshot } from '../types';", 'src/routing/bgp/fine.ts'],
  ["import { decide } from './engine';", 'src/routing/fine.ts'],
  ["import { generateTopology } from '../../../bench/topology-generator';", 'src/routing/bgp/fine.spec.ts'],
  ["import { Injectable } from '@nestjs/common';", 'src/dns/fine.ts'],
];
/** [import, file, allowed]: floors from eslint.config.mjs (routing < common, config < registry < database ... < replication, dns, redirect). */
const FLOOR_CASES: [string, string, boolean][] = [
  ["import { webhookSecretProblem } from '../health/webhook-verifier';", 'src/config/config.ts', false],
  ["import { ReplicationLagStore } from '../replication/lag.store';", 'src/health/webhook.service.ts', false],
  ["import { SnapshotStore } from '../snapshot/snapshot.store';", 'src/common/read-your-writes.interceptor.ts', false],
  ["import { HealthService } from '../health/health.service';", 'src/registry/regions.service.ts', false],
  ["import { isDatabaseUnavailable } from '../database/db-errors';", 'src/common/other.ts', false],
  ["import { isDatabaseUnavailable } from '../database/db-errors';", 'src/common/problem.filter.ts', true],
  ["import { HealthService } from '../health/health.service';", 'src/replication/promotion-facts.ts', true],
  ["import { SnapshotStore } from '../snapshot/snapshot.store';", 'src/health/health.service.ts', true],
  ["import { webhookSecretProblem } from '../common/webhook-secret';", 'src/config/config.ts', true],
  ["import { ReplicationModule } from './replication/replication.module';", 'src/app.module.ts', true],
];

describe('ESLint: src/routing stays pure, and imports run down the floors', () => {
  let results: Message[][];
  const snippet = (line: string) => `${line}\nexport const x = 1;\n`;

  beforeAll(() => {
    results = lintAll([
      ...ROUTING_CASES.map(([line, file]) => ({ code: snippet(line), file })),
      ...ROUTING_ALLOWED.map(([line, file]) => ({ code: snippet(line), file })),
      ...FLOOR_CASES.map(([line, file]) => ({ code: snippet(line), file })),
    ]);
  });
  const purity = (messages: Message[]) => messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'georoute/routing-stays-pure');

  it.each(ROUTING_CASES.map((c, i) => [...c, i] as const))('refuses %s in %s', (_line, _file, what, i) => {
    const messages = purity(results[i]);
    expect(messages).toHaveLength(1);
    expect(messages[0].message).toContain(what);
  });

  it.each(ROUTING_ALLOWED.map((c, i) => [...c, ROUTING_CASES.length + i] as const))('allows %s in %s', (_line, _file, i) => {
    expect(purity(results[i])).toEqual([]);
  });

  it.each(FLOOR_CASES.map((c, i) => [...c, ROUTING_CASES.length + ROUTING_ALLOWED.length + i] as const))('%s in %s: allowed %s', (_line, file, allowed, i) => {
    const up = results[i].filter((m) => m.ruleId === 'georoute/import-floors');
    if (allowed) expect(up).toEqual([]);
    else expect(up).toEqual([{ ruleId: 'georoute/import-floors', message: expect.stringContaining(`${file.split('/')[1]}/ (floor`) }]);
  });
});
