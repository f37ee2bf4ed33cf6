import 'reflect-metadata';
import { INestApplication, Logger, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import * as fs from 'node:fs';
import * as express from 'express';
import * as path from 'node:path';
import { AppConfig } from './config/config';
import { AppModule } from './app.module';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { jsonBodyShape, strictValidationPipe } from './common/validation';
import { spooledBody } from './common/spooled-body';
import { applyHttpLimits, uriLengthLimit } from './common/http-limits';
import helmet from 'helmet';
import { accessLog } from './common/access-log';
import { ServerHeaders } from './common/lean-response';
import { withRequestContext } from './common/audit';
import { trackForeground } from './common/foreground';
import { ConfigLoaderService } from './registry/config-loader.service';
import { SnapshotStore } from './snapshot/snapshot.store';
import { DnsService } from './dns/dns.service';
import { DataSource } from 'typeorm';
import { DatabaseStatus } from './database/database-status';
import { InstancesService } from './cluster/instances.service';
import { RedirectFastPath } from './redirect/fast-path';
import { AdminReadCache } from './read-cache';
import type { GeoLocator } from './geo/geo-locator';
import { addNamedSchemas } from './common/openapi';

export interface RunningGeoroute {
  readonly app: NestExpressApplication;
  readonly httpPort: number;
  readonly dnsPort: number;
  readonly config: AppConfig;
  close(): Promise<void>;
}

/**
 * Starts georoute: the database (embedded unless DATABASE_URL), migrations, the registry (seeded
 * from CONFIG_FILE when empty), the first snapshot, DNS, then HTTP. Used by main.ts and the tests.
 */
/** The body limit of POST /v1/config/apply (every other JSON route: 256 KiB). */
export const CONFIG_APPLY_BODY_LIMIT = '32mb';

export interface StartOptions {
  /** The geolocation database, already opened and checked (main.ts's preflight). */
  readonly geoLocator?: GeoLocator | null;
}

export async function startGeoroute(config: AppConfig, logger: LoggerService | false, options: StartOptions = {}): Promise<RunningGeoroute> {
  Logger.overrideLogger(logger === false ? false : logger);
  fs.mkdirSync(config.dataDir, { recursive: true });
  if (config.adminTokenGenerated) {
    fs.writeFileSync(path.join(config.dataDir, 'admin-token'), config.adminToken + '\n', { mode: 0o600 });
  }
  if (config.dnssec.kekGenerated && config.dnssec.kekFile !== null) {
    // Sealing zone signing keys (DNSSEC); DnssecService warns when a zone is signed with it.
    fs.writeFileSync(config.dnssec.kekFile, config.dnssec.kek.toString('hex') + '\n', { mode: 0o600 });
  }
  const embedded = config.databaseUrl === null ? new EmbeddedPostgres(config.dataDir) : null;
  let app: NestExpressApplication | null = null;
  try {
    if (embedded !== null) {
      const first = !fs.existsSync(path.join(config.dataDir, 'pglite'));
      new Logger('database').log(first ? `initialising the embedded database in ${config.dataDir}/pglite (first start only: a few seconds)` : 'starting the embedded database');
    }
    const databaseUrl = config.databaseUrl ?? (await embedded!.start());
    app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ config, databaseUrl, embedded: embedded !== null, geoLocator: options.geoLocator }),
      { logger: logger === false ? false : logger, rawBody: true, bodyParser: true, abortOnError: false },
    );
    app.disable('x-powered-by');
    // First: background work lets API requests go first from their arrival (common/foreground.ts).
    app.use(trackForeground());
    app.use(accessLog);
    app.use(uriLengthLimit(config.httpLimits.maxUrlBytes));
    // Topologies are large (a 75,000-AS CAIDA file is ~7 MiB, its JSON ~20 MiB): read as the pieces
    // they arrive in, handed (transferred, not copied or joined) to the simulator's worker, which
    // joins, decodes, parses and compresses them.
    app.use('/v1/anycast/topology', spooledBody({ type: ['text/plain', 'application/json'], limitBytes: 64 * 1024 * 1024 }));
    // A whole registry as code may be one document (10,000 services are ~1.5 MiB of JSON).
    app.use('/v1/config/apply', express.json({ limit: CONFIG_APPLY_BODY_LIMIT }));
    // The RUM beacon posts text/plain (a CORS-simple request: no preflight from every page view).
    app.use('/v1/measurements/beacon', express.text({ type: 'text/plain', limit: '64kb' }));
    // Zone import: a BIND master file as text (a 100,000-record zone is ~5 MiB).
    const zoneFile = express.text({ type: ['text/dns', 'text/plain'], limit: '16mb' });
    app.use('/v1/zones', (req: express.Request, res: express.Response, next: express.NextFunction) => (/^\/[^/]+\/import$/.test(req.path) ? zoneFile(req, res, next) : next()));
    app.useBodyParser('json', { limit: '256kb' });
    // After the body parsers: the request's context (who changed what, for the audit trail) then reaches the handlers.
    const auditLog = new Logger('audit');
    app.use(withRequestContext((line) => auditLog.log(line)));
    app.use(jsonBodyShape);
    app.useGlobalPipes(strictValidationPipe());
    app.enableShutdownHooks();
    setUpOpenApi(app);
    await app.init();
    // GET/HEAD /r/ and /healthz in front of Express's router (src/redirect/fast-path.ts).
    // Repeated registry reads of the admin API too (src/read-cache.ts). Security headers on every
    // response, the lean answers' and Express's (helmet's, computed once: src/common/lean-response.ts).
    const headers = ServerHeaders.fromMiddleware(securityHeaders());
    app.get(RedirectFastPath).attach(app.getHttpServer(), app.getHttpAdapter().getInstance(), [app.get(AdminReadCache).answer], headers);

    const ds = app.get(DataSource);
    const dbStatus = app.get(DatabaseStatus);
    const store = app.get(SnapshotStore);
    const loader = app.get(ConfigLoaderService);
    if (ds.isInitialized) {
      await loader.seedIfEmpty();
      await store.requestRebuild({ reload: true });
    } else {
      // Started without the database (static stability): seed and rebuild once it connects.
      dbStatus.whenConnected(ds, async () => {
        await loader.seedIfEmpty();
        await store.requestRebuild({ reload: true });
      });
    }
    if (!store.isLoaded() && !store.loadFromDisk()) {
      throw new Error(`no routing snapshot: the database is unreachable (${dbStatus.lastError ?? store.lastError}) and ${config.dataDir} holds no snapshot.json`);
    }
    const dns = app.get(DnsService);
    const dnsPort = await dns.start(config.dnsHost, config.dnsPort);
    dns.interleaveWith(app.getHttpServer());
    applyHttpLimits(app.getHttpServer(), config.httpLimits, config.trustedProxies);
    await app.listen(config.httpPort, config.httpHost);
    const address = app.getHttpServer().address();
    const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
    app.get(InstancesService).setPorts({ http: httpPort, dns: dnsPort });
    const running = app;
    return {
      app: running,
      httpPort,
      dnsPort,
      config,
      close: async () => {
        dbStatus.stop();
        await running.close();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
}

/**
 * helmet's headers on every response (/docs, /ui, the API, redirects, errors): CSP (the dashboard
 * sets its own, stricter one), nosniff, frame-ancestors/X-Frame-Options, Referrer-Policy,
 * Cross-Origin-Opener/Resource-Policy. Not HSTS (it belongs to whoever terminates TLS, for
 * the operator's whole domain) nor upgrade-insecure-requests (the server speaks plain HTTP).
 */
function securityHeaders() {
  return helmet({
    strictTransportSecurity: false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
}

function setUpOpenApi(app: INestApplication): void {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('georoute admin API')
      .setDescription('Zones, regions, services, health and routing explanations. Errors are RFC 9457 problem documents.')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN or an API token (POST /v1/tokens)' }, 'bearer')
      .build(),
  );
  addNamedSchemas(doc);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'openapi.json' });
}
