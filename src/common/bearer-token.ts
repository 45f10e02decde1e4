import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(req: Pick<Request, 'headers'>): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(header);
  return match?.[1];
}

const TOKEN_HASHES = new WeakMap<object, string>();

/**
 * The SHA-256 (hex) of the request's bearer token, as API keys are stored:
 * hashed once per request, though the rate limiter and the tenant's
 * authentication both key on it.
 */
export function bearerTokenHash(req: Pick<Request, 'headers'>): string | undefined {
  const known = TOKEN_HASHES.get(req);
  if (known !== undefined) return known;
  const token = bearerToken(req);
  if (token === undefined) return undefined;
  const hash = createHash('sha256').update(token, 'utf8').digest('hex');
  TOKEN_HASHES.set(req, hash);
  return hash;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * A check of presented tokens against a configured secret; undefined when the
 * secret is unset. Compared as digests: equal lengths, so timingSafeEqual
 * leaks nothing, not even the length.
 */
export function secretMatcher(
  secret: string | undefined,
): ((token: string) => boolean) | undefined {
  if (secret === undefined) return undefined;
  const expected = digest(secret);
  return (token) => timingSafeEqual(digest(token), expected);
}
