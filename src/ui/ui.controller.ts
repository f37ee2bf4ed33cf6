import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Request, Response } from 'express';
import { Public } from '../common/auth.guard';
import { DomainError } from '../common/domain-error';
import { PROJECT_ROOT } from '../common/paths';

/** The dashboard's files, read from the repository (the same folder from src/ under ts-jest and from dist/). */
export const UI_PUBLIC_DIR = path.join(PROJECT_ROOT, 'src', 'ui', 'public');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/**
 * Files the page takes from npm packages, served at /ui/<name> as they were installed (no CDN,
 * no build step):
 * the d3 UMD builds set `globalThis.d3`, topojson-client's `globalThis.topojson`; world-atlas is
 * Natural Earth's 1:110m countries as TopoJSON. Only these names are served from node_modules.
 */
export const UI_VENDOR_FILES: Readonly<Record<string, string>> = {
  'd3-array.min.js': 'd3-array/dist/d3-array.min.js',
  'd3-geo.min.js': 'd3-geo/dist/d3-geo.min.js',
  'topojson-client.min.js': 'topojson-client/dist/topojson-client.min.js',
  'countries-110m.json': 'world-atlas/countries-110m.json',
};
const NODE_MODULES = path.join(PROJECT_ROOT, 'node_modules');

/** Flat file names only: no slashes, no dot-files, no "..", a known extension. */
const FILE_NAME = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$/;

/**
 * Everything from this origin, nothing inline (no inline scripts, no style attributes), no
 * plugins, no framing, no <base> tricks; fetch() may only reach this origin.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the dashboard without a token (the page asks for one; the data calls carry it). */
@ApiExcludeController()
@Public()
@Controller('ui')
export class UiController {
  @Get()
  index(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.send('index.html', req, res);
  }

  @Get(':file')
  file(@Param('file') file: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (Object.hasOwn(UI_VENDOR_FILES, file)) {
      return this.sendFile(path.join(NODE_MODULES, UI_VENDOR_FILES[file]), file, file.slice(file.lastIndexOf('.') + 1), req, res);
    }
    return this.send(file, req, res);
  }

  private send(name: string, req: Request, res: Response): Promise<void> {
    const match = FILE_NAME.exec(name);
    if (!match) throw DomainError.notFound('file', name.slice(0, 100));
    return this.sendFile(path.join(UI_PUBLIC_DIR, name), name, match[1], req, res);
  }

  private async sendFile(file: string, name: string, extension: string, req: Request, res: Response): Promise<void> {
    let body: Buffer;
    try {
      body = await fs.readFile(file);
    } catch {
      throw DomainError.notFound('file', name);
    }
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    res.setHeader('Content-Type', CONTENT_TYPES[extension]);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', etag);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', UI_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    res.status(200).send(body);
  }
}
