import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, ErrorCode } from './domain-error';
import { isDatabaseUnavailable } from '../database/db-errors';

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.Validation]: HttpStatus.BAD_REQUEST,
  [ErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ErrorCode.Conflict]: HttpStatus.CONFLICT,
  [ErrorCode.InUse]: HttpStatus.CONFLICT,
  [ErrorCode.Unauthorized]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ErrorCode.Unavailable]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.ResidencyRefused]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.TooManyRequests]: HttpStatus.TOO_MANY_REQUESTS,
};

const TITLE: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Writes an RFC 9457 problem document. */
export function sendProblem(
  res: Response,
  status: number,
  detail: string,
  instance: string,
  extra: Record<string, unknown> = {},
): void {
  const body = {
    type: extra.type ?? 'about:blank',
    title: TITLE[status] ?? 'Error',
    status,
    detail,
    instance,
    ...extra,
  };
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

/** The one place where errors become HTTP: domain codes, Nest's own exceptions, body-parser errors. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const instance = req.originalUrl?.split('?')[0] ?? '';
    if (res.headersSent) return;

    if (exception instanceof DomainError) {
      const status = STATUS[exception.code];
      const extra: Record<string, unknown> = { code: exception.code, ...exception.extra };
      if (exception.fields.length > 0) extra.errors = exception.fields;
      if (exception.code === ErrorCode.Unauthorized) res.setHeader('WWW-Authenticate', 'Bearer realm="georoute"');
      if (typeof exception.extra.retryAfterSeconds === 'number') res.setHeader('Retry-After', String(exception.extra.retryAfterSeconds));
      sendProblem(res, status, exception.message, instance, extra);
      return;
    }
    // body-parser errors (malformed JSON, too large) arrive as plain errors with a status.
    const bodyErr = exception as { type?: string; status?: number; message?: string };
    if (bodyErr && typeof bodyErr.status === 'number' && typeof bodyErr.type === 'string') {
      if (bodyErr.type === 'entity.too.large') {
        sendProblem(res, 413, 'request body is larger than the limit', instance, { code: ErrorCode.PayloadTooLarge });
      } else if (bodyErr.type === 'entity.parse.failed') {
        sendProblem(res, 400, 'body: is not valid JSON', instance, {
          code: ErrorCode.Validation,
          errors: [{ field: 'body', rule: 'json', message: 'is not valid JSON' }],
        });
      } else {
        sendProblem(res, bodyErr.status, bodyErr.message ?? 'bad request body', instance);
      }
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest maps body-parser's SyntaxError (malformed JSON) and URIError (bad %-encoding in a
      // path) to a bare BadRequestException; our own code only throws DomainErrors.
      if (status === 400 && exception.constructor.name === 'BadRequestException' && !/decode param/i.test(exception.message)) {
        sendProblem(res, 400, `body: is not valid JSON (${exception.message})`, instance, {
          code: ErrorCode.Validation,
          errors: [{ field: 'body', rule: 'json', message: 'is not valid JSON' }],
        });
        return;
      }
      const r = exception.getResponse();
      const msg = typeof r === 'string' ? r : ((r as { message?: unknown }).message ?? exception.message);
      sendProblem(res, status, Array.isArray(msg) ? msg.join('; ') : String(msg), instance);
      return;
    }
    if (isDatabaseUnavailable(exception)) {
      // Static stability: DNS and redirects keep answering from the snapshot; the API says "later".
      this.logger.warn(`database unavailable on ${req.method} ${instance}: ${(exception as Error)?.message}`);
      res.setHeader('Retry-After', '5');
      sendProblem(res, 503, 'the database is unavailable; DNS and redirects keep answering from the last snapshot, writes are refused until it returns', instance, { code: ErrorCode.Unavailable });
      return;
    }
    this.logger.error(`unhandled error on ${req.method} ${instance}: ${(exception as Error)?.stack ?? String(exception)}`);
    sendProblem(res, 500, 'internal error', instance);
  }
}
