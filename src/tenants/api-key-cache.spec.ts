import { API_KEY_CACHE_TTL_MS, ApiKeyCache } from './api-key-cache';

describe('ApiKeyCache', () => {
  const tenant = { id: 'ten_1', name: 'acme', apiKeyId: 'key_1' };

  it('keeps a key for API_KEY_CACHE_TTL_MS, then asks again', () => {
    const cache = new ApiKeyCache();
    cache.set('h', tenant, 1000);
    expect(cache.get('h', 1000 + API_KEY_CACHE_TTL_MS - 1)).toEqual(tenant);
    expect(cache.get('h', 1000 + API_KEY_CACHE_TTL_MS)).toBeUndefined();
  });

  it('forgets a deleted key at once, and every key of a tenant', () => {
    const cache = new ApiKeyCache();
    cache.set('a', tenant);
    cache.set('b', { ...tenant, apiKeyId: 'key_2' });
    cache.evict({ apiKeyId: 'key_1' });
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    cache.evict({ tenantId: 'ten_1' });
    expect(cache.get('b')).toBeUndefined();
  });
});
