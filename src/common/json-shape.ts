import type { FieldProblem } from './domain-error';

/**
 * Checks a parsed JSON body before anything recursive (class-transformer, class-validator, the
 * services) walks it, pure and iterative (no stack to overflow whatever the depth):
 * - nesting deeper than `maxDepth` objects/arrays is refused (10,000 levels gave a stack
 *   overflow in validation, a 500);
 * - the keys `__proto__`, `constructor` and `prototype` are refused anywhere, as unknown fields
 *   are (class-transformer used to drop them silently).
 */
export const MAX_JSON_DEPTH = 400;
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PROBLEMS = 20;

export function jsonShapeProblems(body: unknown, maxDepth = MAX_JSON_DEPTH): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: '', depth: 0 }];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth + 1 > maxDepth) {
      return [{ field: 'body', rule: 'depth', message: `is nested more than ${maxDepth} levels deep` }];
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const field = path === '' ? key : `${path}.${key}`;
      if (PROTOTYPE_KEYS.has(key)) problems.push({ field, rule: 'unknown-field', message: 'is not a known field' });
      else stack.push({ value: (value as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return problems;
}
