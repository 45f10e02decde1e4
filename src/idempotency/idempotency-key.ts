import { createHash } from 'node:crypto';

/** The request header, as Stripe names it. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on an answer replayed from a stored one, as Stripe does. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** How long a key and its answer are kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A claim with no answer this old belongs to a request whose process died:
 * the key may be claimed again. Far beyond any request's run time.
 */
export const IDEMPOTENCY_STALE_CLAIM_MS = 5 * 60 * 1000;

/** Why a key is refused (400), or null when it is usable: 1–255 printable ASCII characters. */
export function idempotencyKeyProblem(key: string): string | null {
  if (key.length === 0) return `${IDEMPOTENCY_HEADER} must not be empty`;
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return `${IDEMPOTENCY_HEADER} must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`;
  }
  if (!/^[\x20-\x7e]+$/.test(key)) {
    return `${IDEMPOTENCY_HEADER} must be printable ASCII characters`;
  }
  return null;
}

/**
 * What makes two requests "the same" for a key: method, path with query, and
 * the parsed JSON body. A retry of the same request matches; a different body
 * (or route) under a reused key does not.
 */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${url}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

/** The row a key holds: its request's fingerprint and, once there is one, the answer. */
export interface StoredKey {
  fingerprint: string;
  statusCode: number | null;
  body: string | null;
}

/**
 * What a request whose key is already taken gets: the stored answer (`replay`),
 * 409 while the first request is still running (`in-flight`), 422 when the key
 * was used for another request (`mismatch`).
 */
export type KeyDecision =
  | { kind: 'replay'; statusCode: number; body: unknown }
  | { kind: 'in-flight' }
  | { kind: 'mismatch' };

export function decideOnTakenKey(stored: StoredKey, fingerprint: string): KeyDecision {
  if (stored.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (stored.statusCode === null) return { kind: 'in-flight' };
  return {
    kind: 'replay',
    statusCode: stored.statusCode,
    body: stored.body === null ? undefined : (JSON.parse(stored.body) as unknown),
  };
}

/** Only answers that finished the work are kept: 2xx and 3xx. An error may be retried with the key. */
export function isStorableStatus(statusCode: number): boolean {
  return statusCode >= 200 && statusCode < 400;
}
