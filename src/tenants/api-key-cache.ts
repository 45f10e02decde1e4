import type { AuthenticatedTenant } from './authenticated-tenant';

/**
 * How long a looked-up API key is trusted without asking the database again.
 * A key deleted through this process stops working at once; one deleted
 * through another replica (or by hand in SQL) within this time.
 */
export const API_KEY_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  tenant: AuthenticatedTenant;
  expiresAt: number;
}

/**
 * API key hash → tenant, for a few seconds: every request would otherwise
 * read the key and its tenant before doing anything else. One per database
 * client, so that several relays in one process (tests) never share entries.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();

  get(hash: string, now = Date.now()): AuthenticatedTenant | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.tenant;
  }

  set(hash: string, tenant: AuthenticatedTenant, now = Date.now()): void {
    if (this.entries.size >= MAX_ENTRIES) {
      // the oldest insertion goes first: Maps iterate in insertion order
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(hash, { tenant, expiresAt: now + API_KEY_CACHE_TTL_MS });
  }

  /** A deleted key, or every key of a tenant whose keys changed. */
  evict(match: { apiKeyId?: string; tenantId?: string }): void {
    for (const [hash, entry] of this.entries) {
      if (entry.tenant.apiKeyId === match.apiKeyId || entry.tenant.id === match.tenantId) {
        this.entries.delete(hash);
      }
    }
  }
}

const caches = new WeakMap<object, ApiKeyCache>();

/** The cache of the relay that owns `database` (its PrismaService). */
export function apiKeyCacheOf(database: object): ApiKeyCache {
  let cache = caches.get(database);
  if (!cache) caches.set(database, (cache = new ApiKeyCache()));
  return cache;
}
