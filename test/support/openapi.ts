import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** The parts of an OpenAPI 3.0 document these helpers read. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
}

export interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown>; example?: unknown }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Record<string, unknown>; example?: unknown; examples?: unknown }> }>;
  security?: Record<string, string[]>[];
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Every operation of the document as [method, path template, operation]. */
export function operations(doc: OpenApiDocument): [string, string, OpenApiOperation][] {
  const out: [string, string, OpenApiOperation][] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) if (item[method]) out.push([method, path, item[method]]);
  }
  return out;
}

/** Escapes a JSON Pointer token (RFC 6901). */
const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * OpenAPI 3.0 schemas are not quite JSON Schema: `nullable: true` adds null to the type (or, with
 * no type, e.g. around an allOf reference, allows null). Rewrites a copy of the document into
 * plain JSON Schema terms for Ajv.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'example' || k === 'examples' ? v : toJsonSchema(v);
  if (out.nullable !== true) return out;
  delete out.nullable;
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'] };
  return { anyOf: [out, { type: 'null' }] };
}

/**
 * Validates bodies against the schemas of one OpenAPI document with Ajv: the document is added
 * whole under an id, so the `#/components/schemas/...` references inside it resolve, and each
 * response schema is compiled by pointer on first use; `example` is an annotation.
 */
export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addKeyword({ keyword: 'example' });
    this.ajv.addSchema({ ...(toJsonSchema(doc) as object), $id: 'openapi' }, 'openapi');
  }

  /**
   * The problems with `body` as the `status` answer of `method path` (path is the document's
   * template, e.g. /v1/zones/{name}); an empty list when it conforms. The status must be
   * declared, and a body must have a declared schema for its content type.
   */
  validate(method: string, path: string, status: number, body: unknown, contentType: string | undefined): string[] {
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    if (!op) return [`${method.toUpperCase()} ${path} is not in the document`];
    const response = op.responses[String(status)];
    if (!response) return [`${method.toUpperCase()} ${path} does not declare status ${status} (declares ${Object.keys(op.responses).join(', ')})`];
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!response.content) return body === undefined || body === '' || (typeof body === 'object' && body !== null && Object.keys(body).length === 0 && media === '') ? [] : [`status ${status} declares no body but one came (${media})`];
    if (!response.content[media]) return [`status ${status} declares ${Object.keys(response.content).join(', ')}, not ${media}`];
    if (!media.endsWith('json')) return typeof body === 'string' && body.length > 0 ? [] : [`expected a ${media} text body`];
    const key = `${method.toLowerCase()} ${path} ${status} ${media}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      const ref = `openapi#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${status}/content/${pointer(media)}/schema`;
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
}

/** One-shot form of OpenApiValidator.validate. */
export function validateAgainstOpenApi(doc: OpenApiDocument, method: string, path: string, status: number, body: unknown, contentType?: string): string[] {
  return new OpenApiValidator(doc).validate(method, path, status, body, contentType);
}
