import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import * as os from 'node:os';
import * as ipaddr from 'ipaddr.js';
import { PROJECT_ROOT } from '../common/paths';
import { webhookSecretProblem } from '../common/webhook-secret';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../common/http-limits';
import { parseKeyEncryptionKey } from '../common/dnssec-keys';
import { MAX_CPU_SLICE_US, MIN_CPU_SLICE_US } from '../common/cpu-slice';

/**
 * The only reader of process.env. Validated once at start into a typed, frozen object; a bad
 * value stops start-up with one message that names every bad variable.
 */
export interface AppConfig {
  readonly httpHost: string;
  readonly httpPort: number;
  readonly dnsHost: string;
  readonly dnsPort: number;
  /** 0: UDP is answered in this process; N: by N worker processes sharing the UDP socket (DNS_WORKERS=auto: autoDnsWorkers). */
  readonly dnsWorkers: number;
  /** UDP I/O: 'batch' (native recvmmsg/sendmmsg addon, required), 'dgram' (node:dgram), 'auto' (batch when the addon loads). */
  readonly dnsUdpIo: 'auto' | 'batch' | 'dgram';
  /** Fill the DNS routing tables (location classes, region ranking) ahead of queries after start and changes. */
  readonly dnsTablesPreload: boolean;
  /** The CPU slice asked for the threads that answer DNS, in µs (common/cpu-slice.ts); 0 = the kernel's default. */
  readonly dnsCpuSliceUs: number;
  /** null = start the embedded database (PGlite) under dataDir. */
  readonly databaseUrl: string | null;
  /** Alert `residency.refusals` when one instance refuses at least this many answers for residency in one window; 0 = never. */
  readonly alertResidencyRefusals: number;
  /** The window of that count. */
  readonly alertWindowMs: number;
  /** How long start-up keeps retrying DATABASE_URL (with backoff) before giving up; 0 = one attempt. */
  readonly databaseConnectTimeoutMs: number;
  readonly dataDir: string;
  /** null = the bundled DB-IP Lite city database. */
  readonly geoipDb: string | null;
  /** The admin bearer token; generated and written to <dataDir>/admin-token when not given. */
  readonly adminToken: string;
  readonly adminTokenGenerated: boolean;
  readonly webhookSecret: string | null;
  readonly trustedProxies: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
  readonly trustedProxiesText: readonly string[];
  /** YAML applied on an empty database; defaults to config/demo.yaml. */
  readonly configFile: string | null;
  readonly instanceId: string;
  /**
   * Who answered, in DNS (src/dns/identity.ts): `id` is the NSID payload and the CHAOS TXT of
   * id.server / hostname.bind (null = off); `version` the CHAOS TXT of version.bind (null = hidden).
   */
  readonly dnsIdentity: { readonly id: string | null; readonly version: string | null };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** UDP response rate limiting (src/dns/rate-limiter.ts); responsesPerSecond 0 = off. */
  readonly rateLimit: {
    readonly responsesPerSecond: number;
    readonly errorsPerSecond: number;
    readonly slip: number;
    readonly exempt: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
    readonly exemptText: readonly string[];
  };
  /** How often each instance polls the registry version (the fallback when NOTIFY is lost or absent). */
  readonly changePollIntervalMs: number;
  /** Connection caps and timeouts of the HTTP server (common/http-limits.ts). */
  readonly httpLimits: HttpLimits;
  /** Loopback/private/special ranges probes and notifications may reach (common/outbound-policy.ts). */
  readonly outboundAllow: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];
  readonly outboundAllowText: readonly string[];
  /**
   * DNSSEC (src/common/dnssec-keys.ts): the AES-256-GCM key that seals zone signing keys in the
   * database; from DNSSEC_KEY_ENCRYPTION_KEY, else generated into <dataDir>/dnssec-kek (`kekGenerated`,
   * logged as a warning). RRSIG validity and backdating in seconds; key timings (rollovers) scale.
   */
  readonly dnssec: {
    readonly kek: Buffer;
    readonly kekGenerated: boolean;
    readonly kekFile: string | null;
    readonly signatureValiditySeconds: number;
    readonly inceptionOffsetSeconds: number;
    /** The parent's DS TTL assumed when timing KSK/CSK rollovers (DNSSEC_PARENT_DS_TTL). */
    readonly parentDsTtlSeconds: number;
    /** Every rollover wait is divided by this (DNSSEC_TIMING_DIVISOR; tests shorten rollovers with it). */
    readonly timingDivisor: number;
    /** Roll the zone-signing key (ZSK, or the CSK) when it is older than this; 0 = only on request (DNSSEC_ROLLOVER_INTERVAL). */
    readonly rolloverIntervalSeconds: number;
    /** Signatures per second per process on the query path (DNSSEC_ONLINE_SIGNATURES_PER_SECOND; 0 = no limit). */
    readonly onlineSignaturesPerSecond: number;
  };
  /** Measured latency (src/measurements): the evidence rules and how often they compile into the routing tables. */
  readonly latency: LatencyConfig;
}

/** The measurements module's settings (README: the evidence rules). */
export interface LatencyConfig {
  /** How often the aggregates compile into the routing snapshot (LATENCY_COMPILE_INTERVAL_MS). */
  readonly compileIntervalMs: number;
  /** Samples (counted after the per-source cap) a (network, region) needs before it is trusted. */
  readonly minSamples: number;
  /** Distinct reporting sources a (network, region) needs before it is trusted. */
  readonly minSources: number;
  /** Samples older than this are not used (and are deleted). */
  readonly windowMs: number;
  /** The decay: a sample's weight halves every halfLifeMs. */
  readonly halfLifeMs: number;
  /** At most this many (the newest) samples of one source count per network and region. */
  readonly sourceCap: number;
  /** Samples one source may send per minute (per instance); more are rejected (rate-limited). */
  readonly sourceRatePerMinute: number;
  /** Largest batch POST /v1/measurements and the beacon accept. */
  readonly batchMax: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DEFAULT_CONFIG_FILE = path.join(PROJECT_ROOT, 'config', 'demo.yaml');

/** Identical answers per second to one client /24 or /56: far above what one resolver that caches asks. */
export const DEFAULT_RRL_RESPONSES_PER_SECOND = 100;
/** Every 2nd limited response goes out truncated (BIND's default). */
export const DEFAULT_RRL_SLIP = 2;

type Env = Record<string, string | undefined>;

/**
 * DNS_WORKERS=auto (the default): one DNS worker where there are two CPUs or more, so UDP is
 * answered off the event loop that runs the API, config applies and exports; none on one CPU,
 * where a second process would only compete for it.
 */
export function autoDnsWorkers(cpus: number): number {
  return cpus >= 2 ? 1 : 0;
}

export function loadConfig(env: Env = process.env, cwd = process.cwd(), cpus: number = os.availableParallelism()): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const port = (name: string, fallback: number): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) > 65535) {
      problems.push(`${name}="${v}" must be a port number from 0 to 65535 (0 picks a free port)`);
      return fallback;
    }
    return Number(v);
  };
  const host = (name: string, fallback: string): string => {
    const v = str(name) ?? fallback;
    if (net.isIP(v) === 0 && v !== 'localhost') {
      problems.push(`${name}="${v}" must be an IPv4 or IPv6 address to bind to (or localhost)`);
    }
    return v === 'localhost' ? '127.0.0.1' : v;
  };

  const httpHost = host('HTTP_HOST', '127.0.0.1');
  const httpPort = port('HTTP_PORT', 8080);
  const dnsHost = host('DNS_HOST', '127.0.0.1');
  const dnsPort = port('DNS_PORT', 5300);

  let databaseUrl = str('DATABASE_URL') ?? null;
  if (databaseUrl !== null) {
    try {
      const u = new URL(databaseUrl);
      if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
        problems.push(`DATABASE_URL must be a postgres:// or postgresql:// URL (got ${u.protocol})`);
      }
    } catch {
      problems.push('DATABASE_URL is not a valid URL (expected postgres://user@host:port/database)');
      databaseUrl = null;
    }
  }

  const dataDir = path.resolve(cwd, str('DATA_DIR') ?? 'data');

  let geoipDb = str('GEOIP_DB') ?? null;
  if (geoipDb !== null) geoipDb = path.resolve(cwd, geoipDb);

  let adminToken = str('ADMIN_TOKEN');
  let adminTokenGenerated = false;
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('ADMIN_TOKEN must be at least 16 characters long');
  }
  if (adminToken === undefined) {
    // Reuse the token generated by an earlier start on this data directory, else make one.
    const file = path.join(dataDir, 'admin-token');
    const saved = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
    adminToken = saved.length >= 16 ? saved : randomBytes(24).toString('base64url');
    adminTokenGenerated = true;
  }

  const webhookSecret = str('WEBHOOK_SECRET') ?? null;
  if (webhookSecret !== null) {
    const problem = webhookSecretProblem(webhookSecret);
    if (problem) problems.push(`WEBHOOK_SECRET: ${problem}`);
  }

  const cidrs = (name: string, example: string): { nets: [ipaddr.IPv4 | ipaddr.IPv6, number][]; text: string[] } => {
    const nets: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
    const text: string[] = [];
    for (const item of (str(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      try {
        nets.push(item.includes('/') ? ipaddr.parseCIDR(item) : [ipaddr.parse(item), item.includes(':') ? 128 : 32]);
        text.push(item);
      } catch {
        problems.push(`${name} entry "${item}" is not an IP address or CIDR (e.g. ${example})`);
      }
    }
    return { nets, text };
  };
  const wholeNumber = (name: string, fallback: number, min: number, max: number, unit: string): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name}="${v}" must be a whole number ${unit}from ${min} to ${max}`);
      return fallback;
    }
    return Number(v);
  };

  const proxies = cidrs('TRUSTED_PROXIES', '10.0.0.0/8,::1');
  const trustedProxies = proxies.nets;
  const trustedProxiesText = proxies.text;

  const responsesPerSecond = wholeNumber('RRL_RESPONSES_PER_SECOND', DEFAULT_RRL_RESPONSES_PER_SECOND, 0, 1_000_000, '');
  const rrlExempt = cidrs('RRL_EXEMPT', '127.0.0.0/8,::1');
  const rateLimit = Object.freeze({
    responsesPerSecond,
    errorsPerSecond: wholeNumber('RRL_ERRORS_PER_SECOND', responsesPerSecond, 0, 1_000_000, ''),
    slip: wholeNumber('RRL_SLIP', DEFAULT_RRL_SLIP, 0, 10, ''),
    exempt: Object.freeze(rrlExempt.nets),
    exemptText: Object.freeze(rrlExempt.text),
  });

  const configFileRaw = str('CONFIG_FILE');
  // CONFIG_FILE=none starts with an empty registry.
  const configFile =
    configFileRaw === undefined ? DEFAULT_CONFIG_FILE : configFileRaw === 'none' ? null : path.resolve(cwd, configFileRaw);
  if (configFile !== null && !fs.existsSync(configFile)) problems.push(`CONFIG_FILE="${configFileRaw ?? configFile}" does not exist`);

  const instanceId = str('INSTANCE_ID') ?? `georoute-${randomBytes(4).toString('hex')}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instanceId)) {
    problems.push('INSTANCE_ID must be 1-64 characters of letters, digits, ".", "_" or "-"');
  }

  // NSID and id.server: the instance id unless set; "off" hides both. version.bind: hidden unless set.
  const identityText = (name: string): string | null => {
    const v = str(name);
    if (v === undefined) return null;
    if (v.length > 255 || !/^[\x20-\x7e]+$/.test(v)) problems.push(`${name} must be 1-255 printable ASCII characters`);
    return v;
  };
  const nsidRaw = identityText('DNS_NSID');
  const dnsIdentity = Object.freeze({
    id: nsidRaw === null ? instanceId : nsidRaw.toLowerCase() === 'off' ? null : nsidRaw,
    version: identityText('DNS_VERSION'),
  });

  const logLevelRaw = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelRaw)) {
    problems.push(`LOG_LEVEL="${logLevelRaw}" must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const dnsWorkersRaw = (str('DNS_WORKERS') ?? 'auto').toLowerCase();
  let dnsWorkers = autoDnsWorkers(cpus);
  if (dnsWorkersRaw !== 'auto') {
    if (/^\d+$/.test(dnsWorkersRaw) && Number(dnsWorkersRaw) <= 64) dnsWorkers = Number(dnsWorkersRaw);
    else problems.push(`DNS_WORKERS="${dnsWorkersRaw}" must be auto or a whole number from 0 to 64`);
  }
  const udpIoRaw = (str('DNS_UDP_IO') ?? 'auto').toLowerCase();
  if (!['auto', 'batch', 'dgram'].includes(udpIoRaw)) problems.push(`DNS_UDP_IO="${udpIoRaw}" must be auto, batch or dgram`);
  const preloadRaw = (str('DNS_TABLES_PRELOAD') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(preloadRaw)) problems.push(`DNS_TABLES_PRELOAD="${preloadRaw}" must be on or off`);
  const dnsTablesPreload = preloadRaw !== 'off';
  const dnsCpuSliceUs = wholeNumber('DNS_CPU_SLICE_US', MIN_CPU_SLICE_US, 0, MAX_CPU_SLICE_US, 'of microseconds ');
  if (dnsCpuSliceUs > 0 && dnsCpuSliceUs < MIN_CPU_SLICE_US) {
    problems.push(`DNS_CPU_SLICE_US="${dnsCpuSliceUs}" must be 0 (the kernel's default) or from ${MIN_CPU_SLICE_US} to ${MAX_CPU_SLICE_US} microseconds (the kernel's bounds)`);
  }
  const changePollIntervalMs = wholeNumber('CHANGE_POLL_INTERVAL_MS', 2000, 100, 600000, 'of milliseconds ');
  const alertResidencyRefusals = wholeNumber('ALERT_RESIDENCY_REFUSALS', 100, 0, 100_000_000, '');
  const alertWindowMs = wholeNumber('ALERT_WINDOW_SECONDS', 60, 1, 86400, 'of seconds ') * 1000;
  const latency: LatencyConfig = Object.freeze({
    compileIntervalMs: wholeNumber('LATENCY_COMPILE_INTERVAL_MS', 60000, 100, 3600000, 'of milliseconds '),
    minSamples: wholeNumber('LATENCY_MIN_SAMPLES', 20, 1, 1000000, ''),
    minSources: wholeNumber('LATENCY_MIN_SOURCES', 3, 1, 10000, ''),
    windowMs: wholeNumber('LATENCY_WINDOW_HOURS', 24, 1, 720, 'of hours ') * 3600000,
    halfLifeMs: wholeNumber('LATENCY_HALF_LIFE_MINUTES', 360, 1, 43200, 'of minutes ') * 60000,
    sourceCap: wholeNumber('LATENCY_SOURCE_CAP', 50, 1, 100000, ''),
    sourceRatePerMinute: wholeNumber('LATENCY_SOURCE_RATE_PER_MINUTE', 600, 1, 1000000, ''),
    batchMax: wholeNumber('LATENCY_BATCH_MAX', 500, 1, 100000, ''),
  });
  const databaseConnectTimeoutMs = wholeNumber('DATABASE_CONNECT_TIMEOUT_SECONDS', 30, 0, 3600, 'of seconds ') * 1000;

  const d = DEFAULT_HTTP_LIMITS;
  const httpLimits: HttpLimits = Object.freeze({
    maxConnections: wholeNumber('HTTP_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000, ''),
    maxConnectionsPerSource: wholeNumber('HTTP_MAX_CONNECTIONS_PER_SOURCE', d.maxConnectionsPerSource, 0, 1_000_000, ''),
    headersTimeoutMs: wholeNumber('HTTP_HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 1000, 600_000, 'of milliseconds '),
    requestTimeoutMs: wholeNumber('HTTP_REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 1000, 3_600_000, 'of milliseconds '),
    keepAliveTimeoutMs: wholeNumber('HTTP_KEEPALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 0, 600_000, 'of milliseconds '),
    maxRequestsPerSocket: wholeNumber('HTTP_MAX_REQUESTS_PER_SOCKET', d.maxRequestsPerSocket, 0, 1_000_000, ''),
    maxUrlBytes: d.maxUrlBytes,
  });
  if (httpLimits.requestTimeoutMs < httpLimits.headersTimeoutMs) {
    problems.push('HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS');
  }

  const outbound = cidrs('OUTBOUND_ALLOW', '10.0.0.0/8,127.0.0.1');

  let kek: Buffer = Buffer.alloc(32);
  let kekGenerated = false;
  let kekFile: string | null = null;
  const kekText = str('DNSSEC_KEY_ENCRYPTION_KEY');
  if (kekText !== undefined) {
    try {
      kek = parseKeyEncryptionKey(kekText);
    } catch (error) {
      problems.push((error as Error).message);
    }
  } else {
    // Reuse the key an earlier start generated on this data directory, else make one (bootstrap writes it).
    kekFile = path.join(dataDir, 'dnssec-kek');
    const saved = fs.existsSync(kekFile) ? fs.readFileSync(kekFile, 'utf8').trim() : '';
    kek = saved !== '' ? Buffer.from(saved, 'hex') : randomBytes(32);
    if (kek.length !== 32) problems.push(`${kekFile} must hold 64 hex digits`);
    kekGenerated = saved === '';
  }
  const signatureValiditySeconds = wholeNumber('DNSSEC_SIGNATURE_VALIDITY', 14 * 86400, 3600, 90 * 86400, 'of seconds ');
  const inceptionOffsetSeconds = wholeNumber('DNSSEC_INCEPTION_OFFSET', 3600, 0, 86400, 'of seconds ');
  const parentDsTtlSeconds = wholeNumber('DNSSEC_PARENT_DS_TTL', 86400, 0, 604800, 'of seconds ');
  const timingDivisor = wholeNumber('DNSSEC_TIMING_DIVISOR', 1, 1, 10_000_000, '');
  const rolloverIntervalSeconds = wholeNumber('DNSSEC_ROLLOVER_INTERVAL', 0, 0, 10 * 365 * 86400, 'of seconds ');
  const onlineSignaturesPerSecond = wholeNumber('DNSSEC_ONLINE_SIGNATURES_PER_SECOND', 5000, 0, 1_000_000, '');

  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    httpHost,
    httpPort,
    dnsHost,
    dnsPort,
    dnsWorkers,
    dnsCpuSliceUs,
    dnsUdpIo: udpIoRaw as AppConfig['dnsUdpIo'],
    dnsTablesPreload,
    databaseUrl,
    dataDir,
    geoipDb,
    adminToken,
    adminTokenGenerated,
    webhookSecret,
    trustedProxies: Object.freeze(trustedProxies),
    trustedProxiesText: Object.freeze(trustedProxiesText),
    configFile,
    instanceId,
    dnsIdentity,
    logLevel: logLevelRaw as AppConfig['logLevel'],
    changePollIntervalMs,
    databaseConnectTimeoutMs,
    alertResidencyRefusals,
    alertWindowMs,
    latency,
    rateLimit,
    httpLimits,
    outboundAllow: Object.freeze(outbound.nets),
    outboundAllowText: Object.freeze(outbound.text),
    dnssec: Object.freeze({ kek, kekGenerated, kekFile, signatureValiditySeconds, inceptionOffsetSeconds, parentDsTtlSeconds, timingDivisor, rolloverIntervalSeconds, onlineSignaturesPerSecond }),
  });
}

/** Injection token for the frozen AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
