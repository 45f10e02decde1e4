import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const STREAM_TOKEN_PREFIX = 'st_';
export const STREAM_TOKEN_DEFAULT_TTL_S = 300;
export const STREAM_TOKEN_MAX_TTL_S = 3600;

/** What a stream token grants: the streams of one tenant, or of one of its tasks, until `expiresAt`. */
export interface StreamGrant {
  tenantId: string;
  /** the API key that asked for it: deleting the key ends its tokens too */
  apiKeyId: string;
  /** set: only this task's stream */
  sid?: string;
  expiresAt: Date;
}

interface Claims {
  t: string;
  k: string;
  s?: string;
  /** Unix seconds */
  e: number;
}

/**
 * Short-lived tokens for `?token=` on the stream routes, for browsers whose
 * `EventSource` cannot send an `Authorization` header. Stateless: claims and an
 * HMAC-SHA256 over them, keyed with a key derived from ENCRYPTION_KEY (HKDF,
 * its own label), so every replica checks what any other issued, and nothing
 * is stored. A token is useless elsewhere: only the stream routes read it.
 */
export class StreamTokens {
  private readonly key: Buffer;

  constructor(encryptionKey: Buffer) {
    this.key = Buffer.from(
      hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'uxc-relay stream tokens v1', 32),
    );
  }

  issue(grant: StreamGrant): string {
    const claims: Claims = {
      t: grant.tenantId,
      k: grant.apiKeyId,
      ...(grant.sid !== undefined ? { s: grant.sid } : {}),
      e: Math.floor(grant.expiresAt.getTime() / 1000),
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${STREAM_TOKEN_PREFIX}${body}.${this.sign(body)}`;
  }

  /** The grant of a genuine token that has not expired, else undefined. */
  verify(token: string, now = new Date()): StreamGrant | undefined {
    if (!token.startsWith(STREAM_TOKEN_PREFIX)) return undefined;
    const [body, signature, ...rest] = token.slice(STREAM_TOKEN_PREFIX.length).split('.');
    if (!body || !signature || rest.length > 0) return undefined;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    } catch {
      return undefined;
    }
    if (typeof claims.e !== 'number' || claims.e * 1000 <= now.getTime()) return undefined;
    if (typeof claims.t !== 'string' || typeof claims.k !== 'string') return undefined;
    return {
      tenantId: claims.t,
      apiKeyId: claims.k,
      ...(typeof claims.s === 'string' ? { sid: claims.s } : {}),
      expiresAt: new Date(claims.e * 1000),
    };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
