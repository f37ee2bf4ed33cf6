import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './support/test-app';

// There is no Docker engine here: the image and the compose file are checked as files (and with
// `docker compose config` where the plugin exists); the compose topology itself (two instances,
// one PostgreSQL) runs as real processes in multi-instance.e2e-spec.ts.
describe('container image and compose file', () => {
  const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
  const compose = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'compose.yaml'), 'utf8'), { merge: true });

  it('the image ships the CLI, keeps its data in a volume, runs as non-root, checks readiness, sends no telemetry', () => {
    expect(runtime).toMatch(/^COPY bin \.\/bin$/m);
    expect(runtime).toMatch(/ln -s \/app\/bin\/georoute\.js \/usr\/local\/bin\/georoute/);
    expect(runtime).toMatch(/^VOLUME \["\/var\/lib\/georoute"\]$/m);
    expect(runtime).toMatch(/DATA_DIR=\/var\/lib\/georoute/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/HEALTHCHECK[\s\S]*\/readyz/);
    expect(runtime).not.toMatch(/\/healthz/);
    expect(dockerfile.match(/SCARF_ANALYTICS=false/g)?.length).toBe(2);
    // The benchmarks are compiled in the build stage but not shipped.
    expect(runtime).not.toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(runtime).not.toMatch(/dist\/bench/);
    for (const dir of ['dist/src', 'dist/migrations']) expect(runtime).toContain(`COPY --from=build /app/${dir} ./${dir}`);
    // The dashboard's files, which the server reads from src/ui/public at run time.
    expect(runtime).toMatch(/^COPY src\/ui\/public \.\/src\/ui\/public$/m);
    expect(fs.existsSync(path.join(REPO_ROOT, 'src/ui/public/index.html'))).toBe(true);
    // What the image's CMD runs is what the build stage compiles.
    expect(runtime).toMatch(/CMD \["node", "dist\/src\/main\.js"\]/);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.bin.georoute).toBe('bin/georoute.js');
  });

  it('compose: PostgreSQL and two georoute instances sharing it, each with its own id, ports and data', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['georoute-a', 'georoute-b', 'postgres']);
    const [a, b] = [compose.services['georoute-a'], compose.services['georoute-b']];
    for (const s of [a, b]) {
      expect(s.build).toBe('.');
      expect(s.environment.DATABASE_URL).toMatch(/^postgres:\/\/georoute:.*@postgres:5432\/georoute$/);
      expect(Number(s.environment.DATABASE_CONNECT_TIMEOUT_SECONDS)).toBeGreaterThan(0);
      expect(s.environment.ADMIN_TOKEN).toContain('GEOROUTE_ADMIN_TOKEN');
      expect(s.depends_on).toHaveProperty('postgres');
    }
    expect(a.environment.DATABASE_URL).toBe(b.environment.DATABASE_URL);
    expect(a.environment.INSTANCE_ID).not.toBe(b.environment.INSTANCE_ID);
    // Each instance's HTTP and DNS (UDP and TCP) published on its own host ports, data in its own volume.
    const published = (s: { ports: string[] }) => s.ports.map((p) => p.replace(/^127\.0\.0\.1:/, '').split(':')[0]);
    expect(new Set([...published(a), ...published(b)]).size).toBe(4);
    for (const s of [a, b]) {
      expect(s.ports).toEqual(expect.arrayContaining([expect.stringMatching(/:8080\/tcp$/), expect.stringMatching(/:5300\/tcp$/), expect.stringMatching(/:5300\/udp$/)]));
      expect(s.volumes).toEqual([expect.stringMatching(/:\/var\/lib\/georoute$/)]);
    }
    expect(a.volumes[0]).not.toBe(b.volumes[0]);
    expect(compose.services.postgres.environment.POSTGRES_DB).toBe('georoute');
  });

  it('docker compose config accepts the file where the compose plugin exists', () => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    const hasPlugin = probe.status === 0;
    if (hasPlugin) {
      const res = spawnSync('docker', ['compose', '-f', path.join(REPO_ROOT, 'compose.yaml'), 'config', '-q'], { encoding: 'utf8', env: { ...process.env, GEOROUTE_ADMIN_TOKEN: 'compose-check-token-0123456789' } });
      expect([res.status, res.stderr]).toEqual([0, '']);
    } else {
      // No plugin here: the YAML must at least be what compose reads (anchors and merge keys resolved above).
      expect(compose.name).toBe('georoute');
      expect(compose.volumes).toEqual({ 'postgres-data': null, 'georoute-a-data': null, 'georoute-b-data': null });
    }
  });
});
