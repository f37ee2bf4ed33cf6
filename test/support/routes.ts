import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE } from '../../src/common/auth.guard';
import { REQUIRED_SCOPE, type Scope } from '../../src/common/scopes';
import type { TestApp } from './test-app';

/** POSTs that change nothing (computations over a body): `read` is enough for them. */
export const READ_ONLY_POSTS = new Set(['POST /v1/residency/replication-check', 'POST /v1/anycast/simulate']);

/**
 * POSTs that ingest data rather than change configuration: RTT measurements (thousands a minute
 * from tools and browsers) are counted in georoute_measurements_*_total, not written to the audit trail.
 */
export const INGEST_POSTS = new Set(['POST /v1/measurements']);

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly scope: Scope | undefined;
  readonly isPublic: boolean;
}

/** Every route of the running application, from Nest's controller metadata (what the router registered). */
export function routeTable(app: TestApp): Route[] {
  const reflector = new Reflector();
  const scanner = new MetadataScanner();
  const routes: Route[] = [];
  for (const module of app.running.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const cls = wrapper.metatype as new (...args: never[]) => object;
      if (!cls?.prototype) continue;
      const base = [].concat(Reflect.getMetadata(PATH_METADATA, cls) ?? '')[0] as string;
      for (const name of scanner.getAllMethodNames(cls.prototype)) {
        const handler = (cls.prototype as Record<string, (...a: unknown[]) => unknown>)[name];
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (paths === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        for (const p of ([] as string[]).concat(paths)) {
          routes.push({
            method,
            path: `/${[base, p].filter((s) => s !== '' && s !== '/').join('/')}`.replace(/\/+/g, '/'),
            scope: reflector.getAllAndOverride<Scope>(REQUIRED_SCOPE, [handler, cls]),
            isPublic: reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [handler, cls]) ?? false,
          });
        }
      }
    }
  }
  return routes;
}

/** The routes that change something: every route but GET/HEAD, the read-only POSTs and the public ones (the signed webhook is listed apart). */
export function mutatingRoutes(app: TestApp): string[] {
  return routeTable(app)
    .filter((r) => !['GET', 'HEAD'].includes(r.method) && !READ_ONLY_POSTS.has(`${r.method} ${r.path}`) && (!r.isPublic || r.path === '/v1/health/webhook'))
    .filter((r) => r.path !== '/r' && r.path !== '/r/*path' && !INGEST_POSTS.has(`${r.method} ${r.path}`))
    .map((r) => `${r.method} ${r.path}`)
    .sort();
}
