import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config';
import { PinoLogger } from './common/pino-logger';
import { startGeoroute } from './bootstrap';
import { preflight } from './preflight';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`georoute: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = new PinoLogger(config.logLevel, config.instanceId);
  const started = Date.now();
  // Everything that needs no database is checked before it starts, and reported in one message.
  const checked = await preflight(config);
  if (checked.problems.length > 0) {
    process.stderr.write(`georoute: cannot start: ${checked.problems.join('; ')}\n`);
    process.exit(2);
  }
  logger.log(`preflight passed in ${Date.now() - started} ms (geolocation database, ports, configuration file)`, 'main');
  try {
    const running = await startGeoroute(config, logger, { geoLocator: checked.locator });
    logger.log(
      `georoute ${config.instanceId} ready in ${Date.now() - started} ms: HTTP http://${config.httpHost}:${running.httpPort} ` +
        `DNS ${config.dnsHost}:${running.dnsPort} (udp+tcp)` +
        (config.adminTokenGenerated ? `; admin token in ${config.dataDir}/admin-token` : ''),
      'main',
    );
  } catch (err) {
    logger.fatal(`start-up failed: ${(err as Error).message}`, 'main');
    logger.flush();
    setTimeout(() => process.exit(1), 50);
  }
}

void main();
