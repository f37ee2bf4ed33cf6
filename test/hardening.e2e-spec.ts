import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, dumpRegistry, startTestApp, TestApp, TestDatabase } from './support/test-app';

/** Hardening (issue 16): what an attacker holding a token, or none, could do before. */
describe('hardening: zone export and records', () => {
  let db: TestDatabase;
  let app: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startTestApp(db);
    expect((await app.api('post', '/v1/zones', { name: 'example.com', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com' })).status).toBe(201);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.drop();
  });

  it('escapes TXT and CAA values per RFC 1035 §5.1: no directive can be injected, BIND reads the values back', async () => {
    const evil = 'x"\r\n$INCLUDE /etc/passwd\r\n$ORIGIN evil.test.\r\n@ IN A 203.0.113.66 ; \\ é';
    expect((await app.api('post', '/v1/zones/example.com/records', { name: 'evil', type: 'TXT', values: [evil] })).status).toBe(201);
    expect((await app.api('post', '/v1/zones/example.com/records', { name: 'ns1', type: 'A', values: ['192.0.2.53'] })).status).toBe(201);
    expect((await app.api('post', '/v1/zones/example.com/records', { name: '@', type: 'CAA', values: ['0 issue "ca.example\n$INCLUDE /etc/shadow"'] })).status).toBe(201);
    const res = await app.api('get', '/v1/zones/example.com/export');
    expect(res.status).toBe(200);
    const text: string = res.text;
    expect(text).not.toMatch(/\r/);
    expect(text.split('\n').filter((l) => l.startsWith('$'))).toEqual(['$ORIGIN example.com.', '$TTL 3600']);
    expect(text).toContain('@\t300\tIN\tCAA\t0 issue "ca.example\\010$INCLUDE /etc/shadow"');
    expect(text).toContain('evil\t300\tIN\tTXT\t"x\\"\\013\\010$INCLUDE /etc/passwd\\013\\010$ORIGIN evil.test.\\013\\010@ IN A 203.0.113.66 ; \\\\ \\195\\169"');
    // The real BIND parser loads the file and reads the value back byte for byte.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-export-'));
    try {
      fs.writeFileSync(path.join(dir, 'example.com.zone'), text);
      const dumped = execFileSync('named-checkzone', ['-q', '-D', '-o', '-', 'example.com', path.join(dir, 'example.com.zone')], { encoding: 'latin1' });
      const txt = dumped.split('\n').find((l) => /^evil\.example\.com\.\s/.test(l));
      expect(txt).toBeDefined();
      expect(dumped).not.toMatch(/203\.0\.113\.66\s*$/m);
      const quoted = /TXT\s+(".*")$/.exec(txt!)![1];
      expect(unescapeCharacterStrings(quoted)).toEqual(Buffer.from(evil, 'utf8'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a CNAME to itself and one that closes a loop in the zone, and changes nothing', async () => {
    expect((await app.api('post', '/v1/zones/example.com/records', { name: 'b', type: 'CNAME', values: ['c.example.com'] })).status).toBe(201);
    expect((await app.api('post', '/v1/zones/example.com/records', { name: 'c', type: 'CNAME', values: ['d.example.com'] })).status).toBe(201);
    const before = await dumpRegistry(app.ds);
    const self = await app.api('post', '/v1/zones/example.com/records', { name: 'a', type: 'CNAME', values: ['a.example.com.'] });
    expect(self.status).toBe(400);
    expect(self.body.errors).toEqual([expect.objectContaining({ field: 'values', rule: 'cname-loop' })]);
    const loop = await app.api('post', '/v1/zones/example.com/records', { name: 'd', type: 'CNAME', values: ['B.example.com'] });
    expect(loop.status).toBe(400);
    expect(loop.body.detail).toContain('d.example.com -> b.example.com -> c.example.com -> d.example.com');
    expect(await dumpRegistry(app.ds)).toEqual(before);
    // The same through configuration as code: the whole apply is refused.
    const apply = await app.http
      .post('/v1/config/apply')
      .set('Authorization', `Bearer ${(app.running.config as { adminToken: string }).adminToken}`)
      .send({ zones: [{ name: 'loop.example', nameservers: ['ns1.example.com'], hostmaster: 'hostmaster.example.com', records: [{ name: 'x', type: 'CNAME', values: ['y.loop.example'] }, { name: 'y', type: 'CNAME', values: ['x.loop.example'] }] }] });
    expect([apply.status, apply.body.errors?.[0]?.rule]).toEqual([400, "cname-loop"]);
    expect(await dumpRegistry(app.ds)).toEqual(before);
  });
});

/** Reads master-file character-strings ("..." "...") back into octets (RFC 1035 §5.1). */
function unescapeCharacterStrings(text: string): Buffer {
  const out: number[] = [];
  let inside = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') inside = !inside;
    else if (!inside) continue;
    else if (c === '\\' && /^\d{3}$/.test(text.slice(i + 1, i + 4))) {
      out.push(Number(text.slice(i + 1, i + 4)));
      i += 3;
    } else if (c === '\\') out.push(text.charCodeAt(++i));
    else out.push(text.charCodeAt(i));
  }
  return Buffer.from(out);
}
