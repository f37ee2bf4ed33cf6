/**
 * Domain errors carry a code; the one exception filter (problem.filter.ts) maps codes to HTTP
 * statuses and RFC 9457 problem documents. Services throw these, never HttpExceptions.
 */
export enum ErrorCode {
  Validation = 'validation',
  NotFound = 'not-found',
  Conflict = 'conflict',
  InUse = 'in-use',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
  PayloadTooLarge = 'payload-too-large',
  Unavailable = 'unavailable',
  ResidencyRefused = 'residency-refused',
  TooManyRequests = 'too-many-requests',
}

export interface FieldProblem {
  /** JSON path of the offending field, e.g. "endpoints.ipv4[1]". */
  readonly field: string;
  /** The rule it broke, e.g. "ipv4", "max", "unknown-field". */
  readonly rule: string;
  readonly message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: readonly FieldProblem[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  static validation(fields: readonly FieldProblem[]): DomainError {
    const detail = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
    return new DomainError(ErrorCode.Validation, detail, fields);
  }

  static field(field: string, rule: string, message: string): DomainError {
    return DomainError.validation([{ field, rule, message }]);
  }

  static notFound(what: string, name: string): DomainError {
    return new DomainError(ErrorCode.NotFound, `${what} "${name}" does not exist`);
  }

  static conflict(message: string): DomainError {
    return new DomainError(ErrorCode.Conflict, message);
  }

  static inUse(message: string): DomainError {
    return new DomainError(ErrorCode.InUse, message);
  }
}
