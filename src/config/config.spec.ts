import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from './config';

describe('loadConfig', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'georoute-config-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('has sensible defaults and is frozen', () => {
    const c = loadConfig({ DATA_DIR: tmp }, tmp);
    expect(c).toMatchObject({ httpHost: '127.0.0.1', httpPort: 8080, dnsHost: '127.0.0.1', dnsPort: 5300, databaseUrl: null, geoipDb: null, logLevel: 'info' });
    expect(c.configFile).toBe(DEFAULT_CONFIG_FILE);
    expect(fs.existsSync(DEFAULT_CONFIG_FILE)).toBe(true);
    expect(c.adminTokenGenerated).toBe(true);
    expect(c.adminToken.length).toBeGreaterThanOrEqual(16);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('DNSSEC: the key-encryption key from the environment, else one generated (then reused) in DATA_DIR; the signing windows', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'kek-'));
    const given = loadConfig({ DATA_DIR: dir, DNSSEC_KEY_ENCRYPTION_KEY: 'ab'.repeat(32), DNSSEC_SIGNATURE_VALIDITY: '86400', DNSSEC_TIMING_DIVISOR: '100' }, dir);
    expect(given.dnssec).toMatchObject({ kekGenerated: false, kekFile: null, signatureValiditySeconds: 86400, inceptionOffsetSeconds: 3600, parentDsTtlSeconds: 86400, timingDivisor: 100, rolloverIntervalSeconds: 0 });
    expect(given.dnssec.kek.toString('hex')).toBe('ab'.repeat(32));
    const generated = loadConfig({ DATA_DIR: dir }, dir);
    expect(generated.dnssec.kekGenerated).toBe(true);
    expect(generated.dnssec.kekFile).toBe(path.join(dir, 'dnssec-kek'));
    fs.writeFileSync(generated.dnssec.kekFile!, generated.dnssec.kek.toString('hex') + '\n');
    const again = loadConfig({ DATA_DIR: dir }, dir);
    expect(again.dnssec.kekGenerated).toBe(false);
    expect(again.dnssec.kek).toEqual(generated.dnssec.kek);
    expect(() => loadConfig({ DATA_DIR: dir, DNSSEC_KEY_ENCRYPTION_KEY: 'nope', DNSSEC_SIGNATURE_VALIDITY: '10' }, dir)).toThrow(/DNSSEC_KEY_ENCRYPTION_KEY must be 32 octets.*DNSSEC_SIGNATURE_VALIDITY/);
  });

  it('reuses a generated admin token saved in the data directory', () => {
    fs.writeFileSync(path.join(tmp, 'admin-token'), 'saved-token-0123456789\n');
    expect(loadConfig({ DATA_DIR: tmp }, tmp).adminToken).toBe('saved-token-0123456789');
  });

  it('reads every variable', () => {
    const c = loadConfig(
      {
        HTTP_HOST: '::1', HTTP_PORT: '0', DNS_HOST: '127.0.0.2', DNS_PORT: '53', DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
        DATA_DIR: tmp, GEOIP_DB: '/x/y.mmdb', ADMIN_TOKEN: 'token-token-token-1', WEBHOOK_SECRET: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==',
        TRUSTED_PROXIES: '10.0.0.0/8, ::1', CONFIG_FILE: 'none', INSTANCE_ID: 'eu-1', LOG_LEVEL: 'debug',
      },
      tmp,
    );
    expect(c).toMatchObject({ httpHost: '::1', httpPort: 0, dnsHost: '127.0.0.2', dnsPort: 53, databaseUrl: 'postgres://u@127.0.0.1:5432/db', geoipDb: '/x/y.mmdb', adminToken: 'token-token-token-1', adminTokenGenerated: false, configFile: null, instanceId: 'eu-1', logLevel: 'debug' });
    expect(c.trustedProxiesText).toEqual(['10.0.0.0/8', '::1']);
  });

  it('DNS identity: NSID and id.server default to the instance id, DNS_NSID=off hides them, version.bind hidden unless set', () => {
    expect(loadConfig({ DATA_DIR: tmp, INSTANCE_ID: 'fra-2' }, tmp).dnsIdentity).toEqual({ id: 'fra-2', version: null });
    expect(loadConfig({ DATA_DIR: tmp, DNS_NSID: 'ns1.fra', DNS_VERSION: 'georoute 0.1' }, tmp).dnsIdentity).toEqual({ id: 'ns1.fra', version: 'georoute 0.1' });
    expect(loadConfig({ DATA_DIR: tmp, DNS_NSID: 'OFF' }, tmp).dnsIdentity).toEqual({ id: null, version: null });
    expect(() => loadConfig({ DATA_DIR: tmp, DNS_NSID: 'caf\u00e9', DNS_VERSION: 'x'.repeat(256) }, tmp)).toThrow(/DNS_NSID.*DNS_VERSION/);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ HTTP_PORT: '99999', DNS_PORT: 'abc', DNS_HOST: 'not-an-ip', DATABASE_URL: 'mysql://x', ADMIN_TOKEN: 'short', TRUSTED_PROXIES: '10.0.0.0/99', LOG_LEVEL: 'loud', CONFIG_FILE: '/does/not/exist.yaml', DATA_DIR: tmp }, tmp);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const msg = (error as Error).message;
    for (const name of ['HTTP_PORT', 'DNS_PORT', 'DNS_HOST', 'DATABASE_URL', 'ADMIN_TOKEN', 'TRUSTED_PROXIES', 'LOG_LEVEL', 'CONFIG_FILE']) {
      expect(msg).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(8);
  });

  it('DNS_UDP_IO: auto by default, batch or dgram, anything else named', () => {
    expect(loadConfig({ DATA_DIR: tmp }, tmp).dnsUdpIo).toBe('auto');
    expect(loadConfig({ DATA_DIR: tmp, DNS_UDP_IO: 'batch' }, tmp).dnsUdpIo).toBe('batch');
    expect(loadConfig({ DATA_DIR: tmp, DNS_UDP_IO: 'DGRAM' }, tmp).dnsUdpIo).toBe('dgram');
    expect(() => loadConfig({ DATA_DIR: tmp, DNS_UDP_IO: 'uring' }, tmp)).toThrow('DNS_UDP_IO="uring" must be auto, batch or dgram');
  });

  it.each([
    [undefined, 100, null],
    ['0', 0, null],
    ['100', 100, null],
    ['2500', 2500, null],
    ['100000', 100000, null],
    ['50', null, 'DNS_CPU_SLICE_US="50" must be 0 (the kernel\'s default) or from 100 to 100000 microseconds'],
    ['100001', null, 'DNS_CPU_SLICE_US="100001" must be a whole number of microseconds from 0 to 100000'],
    ['0.5', null, 'DNS_CPU_SLICE_US="0.5" must be a whole number'],
    ['-100', null, 'DNS_CPU_SLICE_US="-100" must be a whole number'],
  ])('DNS_CPU_SLICE_US=%s: %s µs, or the problem named', (value, slice, problem) => {
    const env: Record<string, string> = { DATA_DIR: tmp };
    if (value !== undefined) env.DNS_CPU_SLICE_US = value;
    if (problem === null) expect(loadConfig(env, tmp).dnsCpuSliceUs).toBe(slice);
    else expect(() => loadConfig(env, tmp)).toThrow(problem);
  });

  it.each([
    [undefined, 1, 0],
    [undefined, 2, 1],
    [undefined, 64, 1],
    ['auto', 1, 0],
    ['AUTO', 8, 1],
    ['0', 8, 0],
    ['3', 1, 3],
    ['64', 2, 64],
  ])('DNS_WORKERS=%s on %i CPUs: %i workers', (value, cpus, workers) => {
    const env: Record<string, string> = { DATA_DIR: tmp };
    if (value !== undefined) env.DNS_WORKERS = value;
    expect(loadConfig(env, tmp, cpus).dnsWorkers).toBe(workers);
  });

  it.each(['65', 'two', '-1', '1.5'])('DNS_WORKERS=%s is refused, naming auto and the range', (value) => {
    expect(() => loadConfig({ DATA_DIR: tmp, DNS_WORKERS: value }, tmp, 2)).toThrow(`DNS_WORKERS="${value}" must be auto or a whole number from 0 to 64`);
  });
});
