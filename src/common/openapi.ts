/**
 * The OpenAPI contract's shared parts: named response schemas, the RFC 9457 problem document and
 * one decorator per operation (`ApiContract`) that declares its summary, its success answer with
 * schema and example, and the problem document on each error status it can give. The document is
 * served at /openapi.json; test/openapi.e2e-spec.ts walks it and validates real answers against it.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { ReferenceObject, SchemaObject } from '@nestjs/swagger';

export type Schema = SchemaObject | ReferenceObject;

const named = new Map<string, SchemaObject>();

/**
 * Registers a named schema (a component of the document) and returns a reference to it. Named
 * schemas are added to the document by addNamedSchemas (src/bootstrap.ts) after Nest built it.
 */
export function schemaRef(name: string, schema: SchemaObject): ReferenceObject {
  const known = named.get(name);
  if (known !== undefined && known !== schema) throw new Error(`OpenAPI schema ${name} is defined twice`);
  named.set(name, schema);
  return { $ref: `#/components/schemas/${name}` };
}

/** Adds every schema registered with schemaRef to the document's components. */
export function addNamedSchemas(doc: { components?: { schemas?: Record<string, Schema> } }): void {
  doc.components ??= {};
  doc.components.schemas ??= {};
  for (const [name, schema] of named) doc.components.schemas[name] = schema;
}

// Small builders for the schemas of the modules (OpenAPI 3.0: `nullable`, no type arrays).
export const str = (extra: SchemaObject = {}): SchemaObject => ({ type: 'string', ...extra });
export const int = (extra: SchemaObject = {}): SchemaObject => ({ type: 'integer', ...extra });
export const num = (extra: SchemaObject = {}): SchemaObject => ({ type: 'number', ...extra });
export const bool = (extra: SchemaObject = {}): SchemaObject => ({ type: 'boolean', ...extra });
export const time = (extra: SchemaObject = {}): SchemaObject => ({ type: 'string', format: 'date-time', ...extra });
/** One of these strings (with `nullable` in extra, null too: OpenAPI 3.0.3 wants null in the enum). */
export const oneOf = (values: readonly string[], extra: SchemaObject = {}): SchemaObject => ({ type: 'string', enum: extra.nullable ? [...values, null] : [...values], ...extra });
export const list = (items: Schema, extra: SchemaObject = {}): SchemaObject => ({ type: 'array', items, ...extra });
/** A nullable value: OpenAPI 3.0 puts `nullable` next to a type, or around a reference with allOf. */
export function orNull(schema: Schema): SchemaObject {
  if ('$ref' in schema) return { nullable: true, allOf: [schema] };
  const out: SchemaObject = { ...schema, nullable: true };
  if (out.enum) out.enum = [...out.enum, null];
  return out;
}
/** An object with exactly these properties, all required unless named in `optional`. */
export function obj(properties: Record<string, Schema>, optional: readonly string[] = [], extra: SchemaObject = {}): SchemaObject {
  const required = Object.keys(properties).filter((k) => !optional.includes(k));
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false, ...extra };
}
/** A map from names to values of one schema. */
export const mapOf = (values: Schema, extra: SchemaObject = {}): SchemaObject => ({ type: 'object', additionalProperties: values, ...extra });
/** Any JSON value (audit snapshots, delivery payloads: documents of their own). */
export function anyJson(description: string): SchemaObject {
  const scalars: SchemaObject[] = [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }];
  const object: SchemaObject = { type: 'object', additionalProperties: true };
  return { description, nullable: true, anyOf: [object, { type: 'array', items: { anyOf: [object, ...scalars] } }, ...scalars] };
}

/** One page of a list (src/common/paging.ts). */
export function page(items: Schema): SchemaObject {
  return obj({ items: list(items), nextCursor: str({ nullable: true, description: 'pass as `cursor` for the next page; null on the last page' }) });
}

/** The `limit` and `cursor` query parameters of every list. */
export const PAGE_PARAMETERS = [
  { name: 'limit', in: 'query' as const, required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } as SchemaObject, description: 'items per page' },
  { name: 'cursor', in: 'query' as const, required: false, schema: str(), description: 'the nextCursor of the previous page' },
];

/** One field's problem in a 400 (src/common/domain-error.ts FieldProblem). */
const FIELD_PROBLEM = obj({
  field: str({ description: 'JSON path of the offending field, query parameter or header', example: 'endpoints.ipv4[1]' }),
  rule: str({ description: 'the rule it broke', example: 'ipv4' }),
  message: str({ example: 'must be an IPv4 address in dotted-decimal form (e.g. 192.0.2.10)' }),
});

/** RFC 9457 problem document, as src/common/problem.filter.ts writes it (application/problem+json). */
export const PROBLEM = schemaRef('Problem', {
  type: 'object',
  description: 'RFC 9457 problem details. Extension members: code always for errors the API raises itself; the others where named.',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: str({ description: 'always about:blank (the status and code say what happened)', example: 'about:blank' }),
    title: str({ example: 'Bad Request' }),
    status: int({ minimum: 400, maximum: 599, example: 400 }),
    detail: str({ example: 'ttl: must not be less than 60' }),
    instance: str({ description: 'the request path', example: '/v1/zones/example.com' }),
    code: oneOf(['validation', 'not-found', 'conflict', 'in-use', 'unauthorized', 'forbidden', 'payload-too-large', 'unavailable', 'residency-refused', 'too-many-requests', 'no-region']),
    errors: list(FIELD_PROBLEM, { description: '400: every field with a problem' }),
    reason: str({ description: 'a machine-readable cause (webhook refusals, promotion refusals, destructive prunes)', example: 'bad-signature' }),
    region: str({ description: 'promotion refusals: the region asked for' }),
    requiredScope: str({ description: '403: the scope the route needs', example: 'write' }),
    tokenScopes: list(str(), { description: '403: the scopes the token has' }),
    retryAfterSeconds: int({ description: '429: also sent as Retry-After' }),
    problemCount: int({ description: 'anycast topology refusals: how many problems the file has (errors lists the first ones)' }),
  },
  additionalProperties: false,
});

const TITLES: Record<number, string> = {
  400: 'Bad request: malformed JSON, an unknown or invalid field or parameter (errors names each)',
  401: 'No valid bearer token (WWW-Authenticate: Bearer)',
  403: 'The token lacks the scope this route needs',
  404: 'The named object does not exist',
  409: 'Conflict with the current state',
  413: 'Request body larger than the limit',
  429: 'Too many requests (Retry-After says when to retry)',
  503: 'The database is unavailable (Retry-After); DNS keeps answering from the snapshot',
};

export interface ContractOptions {
  summary: string;
  description?: string;
  /** The success status (200, 201, 202, 204). */
  status: number;
  /** What the success answer is. */
  success?: string;
  /** The success body's schema (none for 204). */
  schema?: Schema;
  /** Content type of the success body (application/json unless said). */
  contentType?: string;
  /** An example success body (required with a schema). */
  example?: unknown;
  /** The error statuses besides those of authentication (401, 403, 429 on bearer routes). */
  errors: readonly number[];
  /** Public routes: no bearer token, so no 401/403/429 from it and `security: []`. */
  isPublic?: boolean;
  /** Error statuses with their own description (e.g. 409: what the conflict is). */
  errorText?: Readonly<Record<number, string>>;
}

/** Declares one operation's summary, success answer and problem documents. */
export function ApiContract(o: ContractOptions): MethodDecorator {
  const decorators: MethodDecorator[] = [ApiOperation({ summary: o.summary, ...(o.description ? { description: o.description } : {}), ...(o.isPublic ? { security: [] } : {}) })];
  decorators.push(
    ApiResponse({
      status: o.status,
      description: o.success ?? (o.status === 204 ? 'Done; no body' : 'Success'),
      ...(o.schema ? { content: { [o.contentType ?? 'application/json']: { schema: o.schema, example: o.example } } } : {}),
    }),
  );
  const errors = new Set<number>(o.errors);
  if (!o.isPublic) for (const s of [401, 403, 429]) errors.add(s);
  for (const status of [...errors].sort()) {
    decorators.push(
      ApiResponse({
        status,
        description: o.errorText?.[status] ?? TITLES[status] ?? 'Error',
        content: { 'application/problem+json': { schema: PROBLEM } },
      }),
    );
  }
  return applyDecorators(...decorators);
}
