#!/usr/bin/env node
// The options of issue 22 side by side, without georoute's own code: a Nest application with the
// per-request machinery georoute has (a global guard, a global interceptor, the JSON body parser)
// and two routes, GET /healthz (returns { status: 'ok' }) and GET /r/* (a fixed 307 through @Res),
// served by the Express adapter (georoute's), the Fastify adapter, or a lean node:http handler in
// front of Express (what src/redirect/fast-path.ts does).
//
//   node bench/lib/nest-adapters.cjs express|fastify|lean PORT
//
// Run by bench/adapters.sh from a copy in a scratch install of @nestjs/* (the Fastify adapter is
// not a georoute dependency; run from there, every @nestjs package resolves to that install).
'use strict';
require('reflect-metadata');
const { Controller, Get, Module, Req, Res, Injectable } = require('@nestjs/common');
const { NestFactory, APP_GUARD, APP_INTERCEPTOR } = require('@nestjs/core');

const [kind, portText] = process.argv.slice(2);
const port = Number(portText ?? 0);

class Ops {
  healthz() {
    return { status: 'ok' };
  }
  redirect(req, res) {
    // The Express and Fastify replies have different APIs; both get a 307 with a Location.
    if (typeof res.code === 'function') res.code(307).header('Location', 'https://use.web.test/login').header('Cache-Control', 'private, max-age=30').send('Temporary Redirect to use\n');
    else res.status(307).set('Location', 'https://use.web.test/login').set('Cache-Control', 'private, max-age=30').type('text/plain').send('Temporary Redirect to use\n');
  }
}
const d = (name) => Object.getOwnPropertyDescriptor(Ops.prototype, name);
Get('healthz')(Ops.prototype, 'healthz', d('healthz'));
Get(kind === 'fastify' ? 'r/*' : 'r/*path')(Ops.prototype, 'redirect', d('redirect'));
Req()(Ops.prototype, 'redirect', 0);
Res()(Ops.prototype, 'redirect', 1);
Controller()(Ops);

class AllowGuard {
  canActivate() {
    return true;
  }
}
Injectable()(AllowGuard);
class PassInterceptor {
  intercept(_context, next) {
    return next.handle();
  }
}
Injectable()(PassInterceptor);

class AppModule {}
Module({ controllers: [Ops], providers: [{ provide: APP_GUARD, useClass: AllowGuard }, { provide: APP_INTERCEPTOR, useClass: PassInterceptor }] })(AppModule);

async function main() {
  let app;
  if (kind === 'fastify') {
    const { FastifyAdapter } = require('@nestjs/platform-fastify');
    app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  } else {
    app = await NestFactory.create(AppModule, { logger: false, bodyParser: true });
  }
  await app.init();
  if (kind === 'lean') {
    const server = app.getHttpServer();
    const express = app.getHttpAdapter().getInstance();
    const body = Buffer.from('{"status":"ok"}');
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      if (req.method === 'GET' && req.url.startsWith('/r/')) {
        res.writeHead(307, { Location: 'https://use.web.test/login', 'Cache-Control': 'private, max-age=30', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 26 });
        res.end('Temporary Redirect to use\n');
      } else if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
        res.end(body);
      } else express(req, res);
    });
  }
  await app.listen(port, '127.0.0.1');
  console.log(`listening ${app.getHttpServer().address().port}`);
  process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
