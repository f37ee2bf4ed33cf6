import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { query } from './support/dns-client';
import { createTestDatabase, dumpRegistry, startTestApp, TestApp, TestDatabase, TEST_TOKEN, REPO_ROOT } from './support/test-app';

describe('configuration as code: georoute export / apply, and BIND zone export', () => {
  let db: TestDatabase;
  let app: TestApp;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-cli-'));

  /** Runs the real CLI (bin/georoute.js) against the app, asynchronously (the server runs in this process). */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(REPO_ROOT, 'bin/georoute.js'), ...args], { env: { ...process.env, GEOROUTE_URL: `http://127.0.0.1:${app.httpPort}`, GEOROUTE_TOKEN: TEST_TOKEN, ...env } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db, { CONFIG_FILE: '' });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('CLI usage: --help on stdout with exit 0; unknown commands and options named, exit 2, nothing sent', async () => {
    const before = await dumpRegistry(app.ds);
    for (const args of [['--help'], ['help'], ['apply', '--help'], ['query', '-h']]) {
      const res = await cli(args);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('usage: georoute export');
      expect(res.stdout).toContain('GEOROUTE_URL');
      expect(res.stderr).toBe('');
    }
    const cases: { args: string[]; says: string }[] = [
      { args: [], says: 'no command given' },
      { args: ['frob'], says: 'unknown command "frob"' },
      { args: ['apply', 'x.yaml', '--dryrun', '--force'], says: 'unknown options --dryrun, --force' },
      { args: ['apply', 'x.yaml', '--output', 'xml'], says: '--output must be json or text (got xml)' },
      { args: ['import', 'z.zone', '--zone', 'example.com', '--all'], says: 'unknown option --all' },
      { args: ['import', 'z.zone'], says: 'import needs --zone NAME' },
      { args: ['query', 'app.example.com', '--klient', '1.2.3.4'], says: 'unknown option --klient' },
      { args: ['webhook', 'eu-west-1', 'sick'], says: 'webhook needs REGION and healthy or unhealthy' },
      { args: ['export', 'extra'], says: 'export takes no arguments' },
    ];
    for (const { args, says } of cases) {
      const res = await cli(args);
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toContain(says);
      expect(res.stderr).toContain('usage: georoute');
    }
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });

  it('CLI: a YAML syntax error is reported as YAML, with the file and the line', async () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, 'zones:\n  - name: example.com\n    nameservers: [ns1.example.com\n');
    const res = await cli(['apply', file, '--dry-run']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${file} is not valid YAML`);
    expect(res.stderr).toMatch(/line \d+, column \d+/);
  });

  it('export | apply --dry-run round-trips to an empty diff', async () => {
    const exported = await cli(['export']);
    expect(exported.code).toBe(0);
    const doc = YAML.parse(exported.stdout);
    expect(doc.zones.map((z: { name: string }) => z.name)).toEqual(['example.com']);
    expect(doc.regions).toHaveLength(6);
    expect(doc.services.map((s: { fqdn: string }) => s.fqdn)).toEqual(['app.example.com', 'cdn.example.com']);
    fs.writeFileSync(path.join(dir, 'georoute.yaml'), exported.stdout);
    const dry = await cli(['apply', path.join(dir, 'georoute.yaml'), '--dry-run']);
    expect(dry).toMatchObject({ code: 0, stdout: 'no changes\n' });
    // The demo file itself, with its defaults left out, is also already applied.
    expect((await cli(['apply', path.join(REPO_ROOT, 'config/demo.yaml'), '--dry-run'])).stdout).toBe('no changes\n');
  });

  it('prints the difference on --dry-run and changes nothing', async () => {
    const doc = YAML.parse((await cli(['export'])).stdout);
    doc.services[0].ttl = 20;
    doc.regions.push({ name: 'eu-north-1', countryCode: 'SE', location: { latitude: 59.33, longitude: 18.07 }, endpoints: { ipv4: ['198.51.100.30'] } });
    doc.zones[0].records.push({ name: 'mail', type: 'MX', values: ['10 mx.example.net'] });
    fs.writeFileSync(path.join(dir, 'changed.yaml'), YAML.stringify(doc));
    const before = await dumpRegistry(app.ds);
    const dry = await cli(['apply', path.join(dir, 'changed.yaml'), '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('+ record mail MX in example.com');
    expect(dry.stdout).toContain('+ region eu-north-1');
    expect(dry.stdout).toContain('~ service app.example.com\n    ttl: 30 -> 20');
    expect(dry.stdout).toContain('3 change(s) would be made (dry run)');
    expect(await dumpRegistry(app.ds)).toEqual(before);

    const applied = await cli(['apply', path.join(dir, 'changed.yaml')]);
    expect(applied.stdout).toContain('3 change(s) applied in one transaction');
    expect((await app.api('get', '/v1/services/app.example.com')).body.ttl).toBe(20);
    expect((await app.api('get', '/v1/regions/eu-north-1')).status).toBe(200);
    expect((await cli(['apply', path.join(dir, 'changed.yaml'), '--dry-run'])).stdout).toBe('no changes\n');
  });

  it('is all or nothing, with the API validation messages', async () => {
    const doc = YAML.parse((await cli(['export'])).stdout);
    doc.services[0].ttl = 25; // valid on its own
    doc.services.push({ fqdn: 'bad.example.com', regions: ['eu-west-1', 'mars-1'] });
    doc.regions[0].countryCode = 'XX';
    fs.writeFileSync(path.join(dir, 'bad.yaml'), YAML.stringify(doc));
    const before = await dumpRegistry(app.ds);
    const res = await cli(['apply', path.join(dir, 'bad.yaml')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('400');
    expect(res.stderr).toContain('regions[0].countryCode');
    expect(await dumpRegistry(app.ds)).toEqual(before);

    delete doc.regions[0].countryCode;
    doc.regions[0].countryCode = 'US';
    fs.writeFileSync(path.join(dir, 'bad2.yaml'), YAML.stringify(doc));
    const res2 = await cli(['apply', path.join(dir, 'bad2.yaml')]);
    expect(res2.code).toBe(1);
    expect(res2.stderr).toContain('services[2].regions[1]');
    expect(res2.stderr).toContain('mars-1');
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });

  it('applies many new services in one document, with the same rules as one at a time', async () => {
    const doc = YAML.parse((await cli(['export'])).stdout);
    const many = Array.from({ length: 600 }, (_, i) => ({ fqdn: `bulk${i}.example.com`, regions: ['eu-west-1', 'us-east-1'], residency: 'none' }));
    const before = await dumpRegistry(app.ds);
    // One of them names a missing region: refused with its place in the document, nothing written.
    const broken = { ...doc, services: [...doc.services, ...many.slice(0, 300), { fqdn: 'bulkx.example.com', regions: ['nowhere-1'] }, ...many.slice(300)] };
    const refused = await app.api('post', '/v1/config/apply', broken);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain(`services[${doc.services.length + 300}].regions[0]`);
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // A name that has static A records: 409, nothing written.
    const clash = { ...doc, services: [...doc.services, ...many, { fqdn: 'ns1.example.com', regions: ['eu-west-1'] }] };
    const conflict = await app.api('post', '/v1/config/apply', clash);
    expect(conflict.status).toBe(409);
    expect(JSON.stringify(conflict.body)).toContain('ns1.example.com');
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // All of them: created, answered in DNS at once, and listed like any other service.
    const ok = await app.api('post', '/v1/config/apply', { ...doc, services: [...doc.services, ...many] });
    expect(ok.status).toBe(200);
    expect(ok.body.changes).toHaveLength(600);
    const answer = await query(app.dnsPort, 'bulk599.example.com', 'A', { subnet: '133.242.0.0/24' });
    expect(answer.answers!.length).toBeGreaterThan(0);
    const one = await app.api('get', '/v1/services/bulk599.example.com');
    expect(one.body).toMatchObject({ fqdn: 'bulk599.example.com', zone: 'example.com', ttl: 30, policy: 'proximity', residency: 'none', answerCount: 1 });
    // The round trip holds: exported again, nothing to change.
    fs.writeFileSync(path.join(dir, 'bulk.yaml'), (await cli(['export'])).stdout);
    expect((await cli(['apply', path.join(dir, 'bulk.yaml'), '--dry-run'])).stdout).toBe('no changes\n');
    // Back to the document without them, for the tests after this one.
    fs.writeFileSync(path.join(dir, 'unbulk.yaml'), YAML.stringify(doc));
    expect((await cli(['apply', path.join(dir, 'unbulk.yaml'), '--prune', '--allow-destroy'])).code).toBe(0);
  });

  it('prunes what the document does not name only with --prune', async () => {
    const doc = YAML.parse((await cli(['export'])).stdout);
    doc.services = doc.services.filter((s: { fqdn: string }) => s.fqdn !== 'cdn.example.com');
    fs.writeFileSync(path.join(dir, 'pruned.yaml'), YAML.stringify(doc));
    expect((await cli(['apply', path.join(dir, 'pruned.yaml'), '--dry-run'])).stdout).toBe('no changes\n');
    const pruned = await cli(['apply', path.join(dir, 'pruned.yaml'), '--prune']);
    expect(pruned.stdout).toContain('- service cdn.example.com');
    expect((await app.api('get', '/v1/services/cdn.example.com')).status).toBe(404);
  });

  it('exports a zone in BIND master-file format with each service default answer', async () => {
    const res = await app.api('get', '/v1/zones/example.com/export');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/dns/);
    const text: string = res.text;
    expect(text).toContain('$ORIGIN example.com.');
    expect(text).toMatch(/^@\t3600\tIN\tSOA\tns1\.example\.com\. hostmaster\.example\.com\. \( \d+ 3600 600 604800 300 \)$/m);
    expect(text).toMatch(/^@\t3600\tIN\tNS\tns2\.example\.com\.$/m);
    expect(text).toMatch(/^www\t300\tIN\tCNAME\tapp\.example\.com\.$/m);
    expect(text).toMatch(/^@\t300\tIN\tTXT\t"v=spf1 -all"$/m);
    expect(text).toMatch(/^app\t20\tIN\tA\t198\.51\.100\.10$/m);
    expect(text).toMatch(/^app\t20\tIN\tAAAA\t2001:db8:3::10$/m);
    expect(text).toMatch(/; service app\.example\.com: default answer eu-west-1 \(unknown-location\)/);
    expect((await app.api('get', '/v1/zones/nope.example/export')).status).toBe(404);
  });

  it('sends a signed health webhook as a region would (georoute webhook)', async () => {
    const secret = 'cli-webhook-secret-0123456789abcdef';
    expect((await app.api('patch', '/v1/regions/eu-central-1', { webhookSecret: secret })).status).toBe(200);
    const down = await cli(['webhook', 'eu-central-1', 'unhealthy', 'disk', 'full'], { GEOROUTE_WEBHOOK_SECRET: secret });
    expect(down).toMatchObject({ code: 0, stdout: 'eu-central-1: unhealthy (webhook reported unhealthy: disk full)\n' });
    expect((await app.api('get', '/v1/regions/eu-central-1/health')).body.status).toBe('unhealthy');
    const wrong = await cli(['webhook', 'eu-central-1', 'healthy'], { GEOROUTE_WEBHOOK_SECRET: 'not-the-secret-0123456789abcdef' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('401');
    expect((await cli(['webhook', 'eu-central-1', 'healthy'], { GEOROUTE_WEBHOOK_SECRET: secret })).code).toBe(0);
  });

  it('a dry run refuses everything the apply refuses, with the same status and body', async () => {
    const base = YAML.parse((await cli(['export'])).stdout);
    const withService = (s: object) => ({ ...base, services: [...base.services, s] });
    const cases: [string, object, string, number, string][] = [
      ['a field the schema refuses', { ...base, regions: [{ ...base.regions[0], weight: -1 }, ...base.regions.slice(1)] }, '', 400, 'regions[0].weight'],
      ['a service naming a region that does not exist', withService({ fqdn: 'new.example.com', regions: ['mars-1'] }), '', 400, 'mars-1'],
      ['a service outside every zone', withService({ fqdn: 'app.example.org', regions: ['eu-west-1'] }), '', 400, 'is not inside any zone'],
      ['a service on a name with static records', withService({ fqdn: 'ns1.example.com', regions: ['eu-west-1'] }), '', 409, 'static A records'],
      ['a record on a routed service name', { ...base, zones: [{ ...base.zones[0], records: [...base.zones[0].records, { name: 'app', type: 'CNAME', values: ['x.example.net'] }] }] }, '', 409, 'app.example.com'],
      ['a prune of a region a service still uses', { ...base, regions: base.regions.filter((r: { name: string }) => r.name !== base.services[0].regions[0]) }, '&prune=true', 409, 'still used by services'],
      ['a prune deleting the zone', {}, '&prune=true', 409, 'allowDestroy'],
      ['a prune deleting most services', { ...base, services: [] }, '&prune=true', 409, 'deletes 1 of 1 services'],
    ];
    const before = await dumpRegistry(app.ds);
    for (const [name, doc, flags, status, text] of cases) {
      const dry = await app.api('post', `/v1/config/apply?dryRun=true${flags}`, doc);
      const real = await app.api('post', `/v1/config/apply?dryRun=false${flags}`, doc);
      expect({ name, status: dry.status }).toEqual({ name, status });
      expect({ name, body: dry.body }).toEqual({ name, body: real.body });
      expect(JSON.stringify(dry.body)).toContain(text);
      // The CLI fails the same way, as text on stderr and as the problem document with --output json.
      fs.writeFileSync(path.join(dir, 'refused.yaml'), YAML.stringify(doc));
      const cliArgs = ['apply', path.join(dir, 'refused.yaml'), '--dry-run', ...(flags ? ['--prune'] : [])];
      const text1 = await cli(cliArgs);
      expect({ name, code: text1.code }).toEqual({ name, code: 1 });
      expect(text1.stderr).toContain(String(status));
      const json = await cli([...cliArgs, '--output', 'json']);
      expect({ name, code: json.code }).toEqual({ name, code: 1 });
      expect(JSON.parse(json.stdout)).toEqual({ status, ...real.body });
    }
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // Explicitly allowed, the destructive prune is planned (dry run: nothing deleted)...
    const allowed = await app.api('post', '/v1/config/apply?dryRun=true&prune=true&allowDestroy=true', { ...base, services: [] });
    expect(allowed.status).toBe(200);
    expect(allowed.body.changes.map((c: { action: string; name: string }) => `${c.action} ${c.name}`)).toEqual(['delete app.example.com']);
    // ...but the zone still cannot go while services use it: the same 409 dry or not.
    const zone = await app.api('post', '/v1/config/apply?dryRun=true&prune=true&allowDestroy=true', { regions: base.regions, services: base.services });
    expect(zone.status).toBe(409);
    expect(zone.body.detail).toContain('still used by services');
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });

  it('plans each change as before -> after, as text and as JSON for CI', async () => {
    const doc = YAML.parse((await cli(['export'])).stdout);
    doc.regions.push({ name: 'me-south-1', countryCode: 'BH', location: { latitude: 26.07, longitude: 50.56 }, endpoints: { ipv4: ['198.51.100.40'] } });
    doc.services[0].ttl = 45;
    doc.zones[0].records = doc.zones[0].records.filter((r: { name: string }) => r.name !== 'www');
    fs.writeFileSync(path.join(dir, 'plan.yaml'), YAML.stringify(doc));
    const before = await dumpRegistry(app.ds);
    const text = await cli(['apply', path.join(dir, 'plan.yaml'), '--dry-run', '--prune']);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain('+ region me-south-1\n    name: (none) -> "me-south-1"\n    countryCode: (none) -> "BH"');
    expect(text.stdout).toContain('- record www CNAME in example.com\n    name: "www" -> (none)\n    type: "CNAME" -> (none)');
    expect(text.stdout).toMatch(/~ service app\.example\.com\n {4}ttl: \d+ -> 45/);
    const json = await cli(['apply', path.join(dir, 'plan.yaml'), '--dry-run', '--prune', '--output', 'json']);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan).toMatchObject({ dryRun: true, applied: false });
    expect(plan.changes).toEqual([
      { action: 'delete', kind: 'record', name: 'www CNAME in example.com', before: { name: 'www', type: 'CNAME', ttl: 300, values: ['app.example.com'] } },
      { action: 'create', kind: 'region', name: 'me-south-1', after: expect.objectContaining({ countryCode: 'BH', endpoints: { ipv4: ['198.51.100.40'], ipv6: [] } }) },
      { action: 'update', kind: 'service', name: 'app.example.com', fields: [{ field: 'ttl', from: expect.any(Number), to: 45 }] },
    ]);
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // The real apply does what the plan said.
    const real = await cli(['apply', path.join(dir, 'plan.yaml'), '--prune', '--output', 'json']);
    expect(JSON.parse(real.stdout)).toEqual({ ...plan, dryRun: false, applied: true });
    expect((await cli(['apply', path.join(dir, 'plan.yaml'), '--dry-run', '--prune'])).stdout).toBe('no changes\n');
  });
});
