import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config';
import { PinoLogger } from './common/pino-logger';
import { startGeoroute } from './bootstrap';

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
  try {
    const running = await startGeoroute(config, logger);
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
