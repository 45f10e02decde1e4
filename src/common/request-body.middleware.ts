import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { BROKEN_TEXT_REASON, findBrokenText, isBrokenText } from './broken-text';
import { errorBody } from './error-body';

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

/** Headers the relay reads; the HTTP parser already refuses NUL, this covers the rest. */
const READ_HEADERS = ['authorization', 'x-request-id', 'idempotency-key', 'prefer'];

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Checks a request before anything copies or stores it: no NUL or lone
 * surrogate in the path, the query, the headers read or the body (PostgreSQL
 * would refuse them with a 500); a body is JSON (415 otherwise) and an object
 * (every route takes one), without `__proto__`, `constructor` or `prototype`
 * keys at any depth, which class-transformer would otherwise drop silently or
 * crash on.
 */
@Injectable()
export class RequestBodyMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const refusal = requestProblem(req);
    if (!refusal) return next();
    res.status(refusal.status).json(errorBody(refusal.status, refusal.message));
  }
}

function requestProblem(req: Request): { status: number; message: string } | undefined {
  const bad = (message: string) => ({ status: 400, message });
  const url = req.originalUrl ?? req.url;
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const pathText = decoded(path);
  if (pathText === undefined || isBrokenText(pathText)) {
    return bad(`the path ${BROKEN_TEXT_REASON} or a broken %-escape`);
  }
  if (queryAt !== -1) {
    for (const part of url.slice(queryAt + 1).split('&')) {
      const text = decoded(part.replace(/\+/g, ' '));
      if (text === undefined || isBrokenText(text)) {
        const name = decoded(part.split('=')[0]) ?? 'a query parameter';
        return bad(`${isBrokenText(name) ? 'a query parameter' : name} ${BROKEN_TEXT_REASON}`);
      }
    }
  }
  for (const name of READ_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string' && isBrokenText(value)) {
      return bad(`the ${name} header ${BROKEN_TEXT_REASON}`);
    }
  }
  if (
    BODY_METHODS.has(req.method) &&
    hasBody(req) &&
    !req.is(['application/json', 'application/*+json'])
  ) {
    return {
      status: 415,
      message: `request body must be JSON: send content-type: application/json (got ${req.headers['content-type'] ?? 'none'})`,
    };
  }
  const body: unknown = req.body;
  if (Array.isArray(body)) return bad('request body must be a JSON object, not an array');
  const forbidden = findForbiddenKey(body);
  if (forbidden) return bad(`${forbidden}: the key "${forbidden.split('.').pop()}" is not allowed`);
  const broken = findBrokenText(body, '');
  if (broken) return bad(`${broken} ${BROKEN_TEXT_REASON}`);
  return undefined;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** `%`-decoded text, or undefined when an escape is malformed or not UTF-8. */
function decoded(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
