import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { parseDocument } from 'yaml';
import type { AppConfig } from './config/config';
import { GeoLocator } from './geo/geo-locator';
import { DomainError } from './common/domain-error';
import { validateConfigDocument } from './registry/config-sync.service';

/**
 * Start-up checks that need no database, run before it starts (the embedded one takes seconds to
 * initialise on a first start): the geolocation database opens and is a location database, the
 * HTTP and DNS ports can be bound, the CONFIG_FILE parses as a configuration document. Every
 * problem is collected, so one message names them all; main.ts exits 2 with it.
 */
export interface PreflightResult {
  readonly problems: readonly string[];
  /** The opened geolocation database, handed to the application (it is not read twice). */
  readonly locator: GeoLocator | null;
}

export async function preflight(config: AppConfig): Promise<PreflightResult> {
  const [geo, ports, configFile] = await Promise.all([checkGeo(config), checkPorts(config), checkConfigFile(config.configFile)]);
  return { problems: [...geo.problems, ...ports, ...configFile], locator: geo.locator };
}

async function checkGeo(config: AppConfig): Promise<PreflightResult> {
  try {
    return { problems: [], locator: await GeoLocator.open(config.geoipDb ?? GeoLocator.bundledFiles()) };
  } catch (err) {
    const which = config.geoipDb === null ? 'the bundled DB-IP database' : `GEOIP_DB=${config.geoipDb}`;
    return { problems: [`${which}: ${(err as Error).message}`], locator: null };
  }
}

/** Binds each port the server will listen on and lets it go again; port 0 (any free port) needs no check. */
async function checkPorts(config: AppConfig): Promise<string[]> {
  const checks: Promise<string | null>[] = [];
  if (config.httpPort !== 0) checks.push(tcpBindable(config.httpHost, config.httpPort).then((e) => e && `HTTP_PORT=${config.httpPort}: ${explain(e, config.httpHost, config.httpPort, 'tcp')}`));
  if (config.dnsPort !== 0) {
    checks.push(udpBindable(config.dnsHost, config.dnsPort).then((e) => e && `DNS_PORT=${config.dnsPort}: ${explain(e, config.dnsHost, config.dnsPort, 'udp')}`));
    // DNS over TCP binds the same port: checked once UDP is known free (two checks could collide on the same TCP port as HTTP).
    if (!(config.dnsPort === config.httpPort && config.dnsHost === config.httpHost)) {
      checks.push(tcpBindable(config.dnsHost, config.dnsPort).then((e) => e && `DNS_PORT=${config.dnsPort}: ${explain(e, config.dnsHost, config.dnsPort, 'tcp')}`));
    } else {
      checks.push(Promise.resolve(`DNS_PORT=${config.dnsPort}: the same address and port as HTTP_PORT (DNS over TCP and HTTP cannot share it)`));
    }
  }
  return (await Promise.all(checks)).filter((p): p is string => p !== null);
}

function explain(err: NodeJS.ErrnoException, host: string, port: number, proto: 'tcp' | 'udp'): string {
  const where = `${host}:${port}/${proto}`;
  if (err.code === 'EADDRINUSE') return `${where} is already in use (another georoute, or another server on that port)`;
  if (err.code === 'EACCES') return `no permission to bind ${where} (ports below 1024 need CAP_NET_BIND_SERVICE, or map a higher port)`;
  if (err.code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return `cannot bind ${where}: ${err.message}`;
}

function tcpBindable(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) => resolve(err as NodeJS.ErrnoException));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

function udpBindable(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      resolve(err as NodeJS.ErrnoException);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(null)));
  });
}

/**
 * The CONFIG_FILE is YAML with zones, regions and services whose every object passes the API's own
 * validation (validateConfigDocument, as `POST /v1/config/apply` checks a document); what needs the
 * registry (a region a service names, clashes with stored rows) is checked when it is loaded.
 */
export async function checkConfigFile(file: string | null): Promise<string[]> {
  if (file === null) return [];
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return [`CONFIG_FILE=${file}: ${(err as Error).message}`];
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => `CONFIG_FILE=${file}: ${e.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value)) return [`CONFIG_FILE=${file}: must be a mapping with zones, regions and services`];
  try {
    await validateConfigDocument(value);
    return [];
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    const fields = err.fields.length > 0 ? err.fields.map((f) => `${f.field}: ${f.message}`) : [err.message];
    return fields.map((f) => `CONFIG_FILE=${file}: ${f}`);
  }
}
