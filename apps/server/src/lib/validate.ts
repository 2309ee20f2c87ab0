import type { z } from 'zod';
import { AppError } from './errors';

/** Limits on parsed JSON before any schema sees it (oversized key sets, deep nesting). */
export const INPUT_LIMITS = { maxDepth: 32, maxKeys: 10_000 } as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Refuses input that could reach MongoDB as an operator or pollute prototypes: keys that
 * start with `$` or contain `.`, `__proto__`/`constructor`/`prototype`, too many keys, too
 * deep. Iterative, so hostile nesting cannot overflow the stack.
 *
 * @throws AppError 400 `forbidden-key`, `too-many-keys` or `too-deep`.
 */
export function assertSafeInput(value: unknown, where: string): void {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  let keys = 0;
  while (stack.length > 0) {
    const top = stack.pop();
    if (!top || top.v === null || typeof top.v !== 'object') continue;
    if (top.depth > INPUT_LIMITS.maxDepth) {
      throw new AppError({
        status: 400,
        code: 'too-deep',
        message: `The ${where} is nested too deeply.`,
      });
    }
    const entries = Array.isArray(top.v)
      ? top.v.map((v, i) => [String(i), v] as const)
      : Object.entries(top.v);
    keys += entries.length;
    if (keys > INPUT_LIMITS.maxKeys) {
      throw new AppError({
        status: 400,
        code: 'too-many-keys',
        message: `The ${where} has too many keys.`,
      });
    }
    for (const [key, child] of entries) {
      if (
        !Array.isArray(top.v) &&
        (key.startsWith('$') || key.includes('.') || FORBIDDEN_KEYS.has(key))
      ) {
        throw new AppError({
          status: 400,
          code: 'forbidden-key',
          message: `The ${where} has a key that is not allowed.`,
          details: { key: key.slice(0, 40) },
        });
      }
      stack.push({ v: child, depth: top.depth + 1 });
    }
  }
}

/**
 * Parses untrusted input with a contract schema. Unknown fields are refused by the strict
 * schemas with `unknown-field`; a refinement that names a code gets that code; anything
 * else wrong is `invalid-input` with the issues.
 *
 * @throws AppError 400.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  assertSafeInput(value, where);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    code: i.code,
    message: i.message,
    ...(i.code === 'unrecognized_keys' ? { keys: i.keys.map((k) => k.slice(0, 40)) } : {}),
  }));
  const unknown = result.error.issues.some((i) => i.code === 'unrecognized_keys');
  // A contract refinement may name its own stable code (e.g. `unsafe-characters`).
  const named = result.error.issues
    .map((i) =>
      i.code === 'custom' ? (i.params as { code?: unknown } | undefined)?.code : undefined,
    )
    .find((c) => typeof c === 'string');
  throw new AppError({
    status: 400,
    code: unknown ? 'unknown-field' : typeof named === 'string' ? named : 'invalid-input',
    message: unknown
      ? `The ${where} has fields that are not allowed.`
      : `The ${where} is not valid.`,
    details: { issues },
  });
}
