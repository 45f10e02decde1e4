import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'uxr_';

/** A new API key: shown once, stored only as its hash. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** What listings show of a key: enough to tell keys apart, useless to an attacker. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 6);
}
