import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '../config/config';
import { clientAddress } from '../common/client-ip';
import { normalizeName } from '../common/dns-name';
import { truncateIp } from '../common/ip';
import { sendProblem } from '../common/problem.filter';
import { RouteService } from '../route/route.service';
import { SnapshotStore } from '../snapshot/snapshot.store';
import { buildLocation } from './redirect-location';

const RETRY_AFTER_SECONDS = 30;
/** RFC 9110 §9.2.1: the safe methods are reads; every other method is routed as a write. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Application-layer redirects: the same engine as DNS, with the real client address (the socket
 * peer, or X-Forwarded-For from a trusted proxy). Synchronous: one snapshot read, one decision.
 */
@Injectable()
export class RedirectService {
  private readonly logger = new Logger('redirect');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly snapshots: SnapshotStore,
    private readonly route: RouteService,
  ) {}

  handle(req: Request, res: Response): void {
    const instance = req.originalUrl.split('?')[0].slice(0, 200);
    const raw = req.originalUrl.slice('/r/'.length);
    const cut = raw.search(/[/?]/);
    const fqdn = normalizeName(cut < 0 ? raw : raw.slice(0, cut));
    const tail = cut < 0 ? '' : raw.slice(cut);
    const snapshot = this.snapshots.current();
    const service = snapshot.services.get(fqdn);
    if (!service) {
      sendProblem(res, 404, `service "${fqdn.slice(0, 253)}" does not exist`, instance, { code: 'not-found' });
      return;
    }
    const client = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.config.trustedProxies);
    if (client === null) {
      sendProblem(res, 400, 'cannot tell the client address', instance);
      return;
    }
    const ip = client.ip;
    // Unsafe methods are writes: a replicated active-passive service sends them to its primary.
    const access = SAFE_METHODS.has(req.method.toUpperCase()) ? 'read' : 'write';
    const { decision } = this.route.decideFor(snapshot, fqdn, 'HTTP', ip, client.forwarded ? 'forwarded' : 'socket', access);
    res.setHeader('X-Georoute-Reason', decision.reason);
    if (service.replication !== undefined) res.setHeader('X-Georoute-Access', service.writeOf !== undefined ? 'write' : access);
    if (decision.outcome === 'refused' || decision.addresses.length === 0) {
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      res.setHeader('Cache-Control', 'no-store');
      this.logger.log(`redirect refused for ${truncateIp(ip)} to ${fqdn}: ${decision.reason}`);
      sendProblem(res, 503, decision.detail, instance, { code: decision.outcome === 'refused' ? 'residency-refused' : 'no-region', reason: decision.reason });
      return;
    }
    const built = buildLocation(decision.addresses[0], tail);
    if (!built.ok) {
      sendProblem(res, built.status, built.detail, instance, { code: 'validation' });
      return;
    }
    res.setHeader('X-Georoute-Region', decision.regions[0]);
    res.setHeader('Cache-Control', `private, max-age=${decision.ttl}`);
    res.setHeader('Location', built.location);
    res.status(307);
    if (req.method === 'HEAD') res.end();
    else res.type('text/plain').send(`Temporary Redirect to ${decision.regions[0]}\n`);
  }
}
