import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { version } from '../../package.json';

const SECRET_PREFIX = 'whsec_';

export const WEBHOOK_USER_AGENT = `uxc-relay/${version}`;

/** The headers of one webhook request, as sent on the wire. */
export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'content-type': 'application/json';
  'user-agent': string;
  [name: string]: string;
}

export interface SignInput {
  msgId: string;
  /** Unix seconds. */
  timestamp: number;
  body: string;
}

/** A fresh Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** A fresh message id (`msg_…`), for messages that are not a stored delivery. */
export function generateWebhookMessageId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

/**
 * The `webhook-signature` header value: one `v1,<base64>` per secret,
 * space-separated, so that during a rotation a receiver holding either the old
 * or the new secret verifies the message.
 */
export function signPayload(input: SignInput, secrets: readonly string[]): string {
  if (secrets.length === 0) throw new Error('at least one webhook secret is needed to sign');
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) {
    throw new Error('webhook timestamp must be whole Unix seconds');
  }
  const content = `${input.msgId}.${input.timestamp}.${input.body}`;
  return secrets
    .map(
      (secret) => `v1,${createHmac('sha256', secretKey(secret)).update(content).digest('base64')}`,
    )
    .join(' ');
}

/** Every header of a webhook request, signed for `now`. */
export function buildWebhookHeaders(
  msgId: string,
  body: string,
  secrets: readonly string[],
  now: Date = new Date(),
): WebhookHeaders {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signPayload({ msgId, timestamp, body }, secrets),
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
  };
}

/**
 * The `webhook-signature` header value from keys already decoded with
 * `signingKey`: the dispatcher decodes each tenant's secrets once, not per message.
 */
export function signWithKeys(input: SignInput, keys: readonly Buffer[]): string {
  if (keys.length === 0) throw new Error('at least one webhook secret is needed to sign');
  const content = `${input.msgId}.${input.timestamp}.${input.body}`;
  return keys
    .map((key) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`)
    .join(' ');
}

/** The HMAC key of a `whsec_…` secret. */
export function signingKey(secret: string): Buffer {
  return secretKey(secret);
}

/** The HMAC key of a `whsec_…` secret (the prefix is optional, as in the Standard Webhooks libraries). */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  // The error never quotes the secret: it may end up in a log.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new Error('webhook secret is not whsec_ followed by base64');
  }
  return Buffer.from(encoded, 'base64');
}
