import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { HostResolver } from '../webhooks/callback-url-policy';

/** Names the resolver does not serve (hosts-file names such as localhost) are looked up again after this. */
const FALLBACK_TTL_MS = 30_000;
const MAX_TTL_MS = 300_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  addresses: Promise<string[]>;
  expiresAt: number;
}

/**
 * A resolver that keeps each answer for its DNS TTL, so a kept-alive pool that
 * opens a new connection does not wait on a lookup. Names the DNS does not
 * answer for fall back to `fallback` (the system's lookup) for a short while.
 * The address policy still runs on whatever this returns, at connect time.
 */
export function cachingResolver(
  fallback: HostResolver,
  now: () => number = Date.now,
): HostResolver {
  const cache = new Map<string, Entry>();
  return (host) => {
    if (isIP(host)) return Promise.resolve([host]);
    const hit = cache.get(host);
    if (hit && hit.expiresAt > now()) return hit.addresses;
    const entry: Entry = { addresses: Promise.resolve([]), expiresAt: now() + FALLBACK_TTL_MS };
    entry.addresses = resolveWithTtl(host).then(
      ({ addresses, ttlMs }) => {
        entry.expiresAt = now() + ttlMs;
        return addresses;
      },
      async () => fallback(host),
    );
    // a failed lookup is not kept: the next connection asks again
    entry.addresses.catch(() => cache.delete(host));
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(host, entry);
    return entry.addresses;
  };
}

async function resolveWithTtl(host: string): Promise<{ addresses: string[]; ttlMs: number }> {
  const [v4, v6] = await Promise.allSettled([
    dns.resolve4(host, { ttl: true }),
    dns.resolve6(host, { ttl: true }),
  ]);
  const records = [
    ...(v4.status === 'fulfilled' ? v4.value : []),
    ...(v6.status === 'fulfilled' ? v6.value : []),
  ];
  if (records.length === 0) throw new Error(`no DNS records for ${host}`);
  const ttl = Math.min(...records.map((record) => record.ttl));
  return {
    addresses: records.map((record) => record.address),
    ttlMs: Math.min(MAX_TTL_MS, Math.max(1000, ttl * 1000)),
  };
}
