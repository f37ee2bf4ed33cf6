import { ValidationError, ValidationPipe } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ValidateBy, ValidationOptions, buildMessage } from 'class-validator';
import { DomainError, FieldProblem } from './domain-error';
import { checkEndpointIpv4, checkEndpointIpv6 } from './ip';
import { checkDomainName } from './dns-name';
import { isAssignedCountry } from './countries';
import { jsonShapeProblems } from './json-shape';
import { sendProblem } from './problem.filter';
import { SpooledBody } from './spooled-body';

const RULE_NAMES: Record<string, string> = { whitelistValidation: 'unknown-field', nestedValidation: 'object' };

/** Flattens class-validator's error tree into field paths such as "endpoints.ipv4[1]". */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const isIndex = /^\d+$/.test(e.property);
    const field = parent === '' ? e.property : isIndex ? `${parent}[${e.property}]` : `${parent}.${e.property}`;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) {
      const cleaned = rule === 'whitelistValidation' ? 'is not a known field' : message.replace(/^(each value in )?[\w.[\]]+ /, '$1');
      out.push({ field, rule: RULE_NAMES[rule] ?? rule, message: cleaned });
    }
    if (e.children && e.children.length > 0) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

/**
 * Express middleware after the body parsers: a parsed body nested deeper than 400 levels, or
 * with a `__proto__`/`constructor`/`prototype` key, is a 400 problem document before anything
 * recursive reads it (json-shape.ts).
 */
export function jsonBodyShape(req: Request, res: Response, next: NextFunction): void {
  if (typeof req.body === 'object' && req.body !== null && !Buffer.isBuffer(req.body) && !(req.body instanceof SpooledBody)) {
    const problems = jsonShapeProblems(req.body);
    if (problems.length > 0) {
      const error = DomainError.validation(problems);
      sendProblem(res, 400, error.message, (req.originalUrl ?? '').split('?')[0], { code: error.code, errors: problems });
      return;
    }
  }
  next();
}

/** The production validation pipe: strict (unknown fields refused), no implicit type conversion. */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => DomainError.validation(flattenValidationErrors(errors)),
  });
}

function each(value: unknown, check: (v: unknown) => string | null): boolean {
  return Array.isArray(value) ? value.every((v) => check(v) === null) : check(value) === null;
}

export const IsEndpointIpv4 = (opts?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'ipv4',
      validator: {
        validate: (v) => each(v, checkEndpointIpv4),
        defaultMessage: buildMessage((p) => `${p}must be a usable IPv4 address in dotted-decimal form (e.g. 192.0.2.10)`, opts),
      },
    },
    opts,
  );

export const IsEndpointIpv6 = (opts?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'ipv6',
      validator: {
        validate: (v) => each(v, checkEndpointIpv6),
        defaultMessage: buildMessage((p) => `${p}must be a usable IPv6 address without a zone index (e.g. 2001:db8::10)`, opts),
      },
    },
    opts,
  );

export const IsCountryCode = (opts?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'country-code',
      validator: {
        validate: (v) => isAssignedCountry(v),
        defaultMessage: buildMessage((p) => `${p}must be an assigned ISO 3166-1 alpha-2 country code in upper case (e.g. IE)`, opts),
      },
    },
    opts,
  );

export const IsDomainName = (opts?: ValidationOptions & { allowWildcard?: boolean; allowUnderscore?: boolean }): PropertyDecorator =>
  ValidateBy(
    {
      name: 'domain-name',
      validator: {
        validate: (v) => each(v, (x) => (typeof x === 'string' ? checkDomainName(x, opts) : 'must be a string')),
        defaultMessage: buildMessage((p) => `${p}must be a valid domain name (LDH labels of 1-63 characters, at most 253 characters)`, opts),
      },
    },
    opts,
  );
