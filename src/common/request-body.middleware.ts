import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Keys that reach an object's prototype when code copies them naively. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** The path of the first forbidden key in `value`, e.g. `metadata.a.__proto__`. */
export function findForbiddenKey(value: unknown, path = ''): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return here;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], here);
    if (found) return found;
  }
  return undefined;
}

/**
 * Checks a JSON body before anything copies it: it must be an object (every
 * route takes one), without `__proto__`, `constructor` or `prototype` keys at
 * any depth. class-transformer would otherwise drop some of those keys
 * silently and crash on others (a 500 instead of a 400).
 */
@Injectable()
export class RequestBodyMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const problem = Array.isArray(req.body)
      ? 'request body must be a JSON object, not an array'
      : forbiddenKeyProblem(req.body);
    if (!problem) return next();
    res.status(400).json({ statusCode: 400, error: 'Bad Request', message: [problem] });
  }
}

function forbiddenKeyProblem(body: unknown): string | undefined {
  const found = findForbiddenKey(body);
  return found && `${found}: the key "${found.split('.').pop()}" is not allowed`;
}
