import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './support/test-app';
import { ProcessApp, startProcess } from './support/process-app';

// The README's commands, run as written against a real georoute process started as `npm start`
// starts it (demo configuration, generated admin token), so the README cannot drift from the code.
// Rewritten only where a test must: the ports (the process listens on free ones), data/admin-token
// (the process's DATA_DIR) and `npx georoute` (the same bin/georoute.js, run from a scratch folder so
// files the commands write do not land in the repository). The Docker block is the one not run
// (no Docker engine on the CI machine): test/container.e2e-spec.ts checks the image and compose
// files it uses; the two set-up commands are what CI itself runs.

const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The ```sh blocks of the README, in order. */
function shellBlocks(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** Lines with their continuations joined: a trailing backslash, or a single-quoted string left open. */
function logicalLines(block: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of block.split('\n')) {
    if (current === '' && line.trim() === '') continue;
    current += (current ? '\n' : '') + line;
    // Quotes counted without trailing comments ("# your region's health URL").
    const code = current.split('\n').map((l) => l.replace(/\s+#\s.*$/, '')).join('\n');
    const openQuote = (code.match(/'/g) ?? []).length % 2 === 1;
    if (!line.endsWith('\\') && !openQuote) {
      out.push(current);
      current = '';
    }
  }
  return out;
}

describe('README commands', () => {
  let app: ProcessApp;
  const dirs: string[] = [];
  let dataDir = '';
  let work = '';

  const rewrite = (cmd: string) =>
    cmd
      .replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${app.httpPort}`)
      .replace(/-p 5300\b/g, `-p ${app.dnsPort}`)
      .replace(/\bdata\/admin-token/g, `${dataDir}/admin-token`)
      .replace(/\bnpx georoute\b/g, `node ${path.join(REPO_ROOT, 'bin/georoute.js')}`);

  const sh = (script: string) =>
    spawnSync('bash', ['-o', 'pipefail', '-c', script], {
      cwd: work,
      encoding: 'utf8',
      timeout: 30000,
      env: { PATH: process.env.PATH ?? '', HOME: work, DATA_DIR: dataDir, GEOROUTE_URL: `http://127.0.0.1:${app.httpPort}`, GEOROUTE_DNS: `127.0.0.1:${app.dnsPort}` },
    });

  const start = async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-readme-data-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-readme-work-'));
    dirs.push(dataDir, work);
    fs.symlinkSync(path.join(REPO_ROOT, 'examples'), path.join(work, 'examples'));
    // As `npm start` runs it: the demo configuration, a generated token; only the ports are free ones.
    app = await startProcess({ DATA_DIR: dataDir });
  };
  afterEach(async () => {
    await app?.stop();
  });
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('the tutorial: every step prints what the README says it prints', async () => {
    await start();
    const block = shellBlocks().find((b) => b.startsWith('# 1. The token npm start generated'));
    expect(block).toBeDefined();
    // Steps: "# N. ..." then command lines, each followed by its expected output lines.
    const steps = block!.split(/^(?=# \d+\. )/m).map((s) => s.trim()).filter(Boolean);
    expect(steps).toHaveLength(10);
    for (const step of steps) {
      const [title, ...rest] = logicalLines(step);
      const command = rest[0];
      const expected = rest.slice(1).join('\n');
      // The steps run one after the other as in one terminal: step 1's TOKEN is there for the rest.
      const res = sh(`TOKEN=$(cat ${dataDir}/admin-token)\n${rewrite(command)}`);
      expect({ title, status: res.status, stderr: res.stderr }).toEqual({ title, status: 0, stderr: '' });
      expect({ title, output: res.stdout.trim() }).toEqual({ title, output: expected.trim() });
    }
  });

  it('the API overview: every command succeeds (no problem document, exit code 0)', async () => {
    await start();
    const block = shellBlocks().find((b) => b.startsWith('TOKEN=$(cat data/admin-token)'));
    expect(block).toBeDefined();
    const [preamble, ...commands] = logicalLines(block!);
    expect(commands.length).toBeGreaterThan(15);
    for (const command of commands) {
      const res = sh(`${rewrite(preamble)}\n${rewrite(command)}`);
      expect({ command, status: res.status, stderr: res.stderr }).toEqual({ command, status: 0, stderr: '' });
      expect({ command, problem: /"status":\s*[45]\d\d/.test(res.stdout) }).toEqual({ command, problem: false });
    }
  });

  it('the examples of replication, tokens, audit, alerts and configuration as code, in order', async () => {
    await start();
    const blocks = shellBlocks();
    const first = blocks.findIndex((b) => b.includes('"replication": { "mode": "active-passive"'));
    const last = blocks.findIndex((b) => b.startsWith('npx georoute export > georoute.yaml\n'));
    expect([first > 0, last > first]).toEqual([true, true]);
    const preamble = rewrite(logicalLines(blocks.find((b) => b.startsWith('TOKEN=$(cat data/admin-token)'))!)[0]);
    // The configuration-as-code commands work on the export the API overview writes.
    expect(sh(`${preamble}\n${rewrite('npx georoute export > georoute.yaml')}`).status).toBe(0);
    // Ids and secrets the README shows are placeholders: each is replaced by the one the server gave.
    const real = new Map<string, string>();
    const isCommand = (line: string) => /^(curl |npx |dig |GEOROUTE_[A-Z_]+=\S+ npx )/.test(line);
    let ran = 0;
    for (const block of blocks.slice(first, last + 1)) {
      const lines = logicalLines(block);
      for (const [i, line] of lines.entries()) {
        if (!isCommand(line)) continue; // comments, and the answers the README shows
        let command = line;
        for (const [shown, actual] of real) command = command.split(shown).join(actual);
        const res = sh(`${preamble}\n${rewrite(command)}`);
        ran++;
        expect({ command, status: res.status, stderr: res.stderr }).toEqual({ command, status: 0, stderr: '' });
        expect({ command, problem: /"status":\s*[45]\d\d/.test(res.stdout) }).toEqual({ command, problem: false });
        // The answer the README shows after this command: map its placeholder id (and token) to the real ones.
        const shownAnswer = lines[i + 1] ?? '';
        const shownId = /^\{"id":"([^"]+)"/.exec(shownAnswer)?.[1];
        if (shownId !== undefined) {
          const body = JSON.parse(res.stdout) as { id: string; token?: string };
          real.set(shownId, body.id);
          if (body.token !== undefined) real.set(`grt_${shownId.slice(0, 4)}...`, body.token);
        }
      }
    }
    expect(ran).toBeGreaterThan(12);
    expect(real.size).toBeGreaterThanOrEqual(3);
  });

  it('the quick start: the two dig commands answer as commented', async () => {
    await start();
    const block = shellBlocks().find((b) => b.startsWith('dig @127.0.0.1 -p 5300 app.example.com'));
    expect(block).toBeDefined();
    const [london, nope] = logicalLines(block!);
    const answer = sh(`${rewrite(london.split('#')[0])} +short`);
    expect(answer.stdout.trim()).toBe(/\((\d+\.\d+\.\d+\.\d+)\)/.exec(london)![1]);
    const nx = sh(rewrite(nope.split('#')[0]));
    expect(nx.stdout).toContain('status: NXDOMAIN');
    expect(nx.stdout).toMatch(/AUTHORITY SECTION:\nexample\.com\.\s+\d+\s+IN\s+SOA/);
  });
});
