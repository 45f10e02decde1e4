import request from 'supertest';
import { API_KEY_CACHE_TTL_MS } from '../src/tenants/api-key-cache';
import { TestApp } from './support/app';
import { bearer, createTwoTenantRelay, TenantFixture } from './support/factories';

describe('API key lookups are cached briefly', () => {
  let relay: TestApp;
  let acme: TenantFixture;

  beforeAll(async () => {
    ({ relay, acme } = await createTwoTenantRelay());
  });
  afterAll(() => relay.close());

  it('a key deleted behind this relay (another replica, or SQL) stops working within API_KEY_CACHE_TTL_MS', async () => {
    await request(relay.url).get('/v1/tasks').set(bearer(acme)).expect(200);
    const deletedAt = Date.now();
    await relay.prisma.apiKey.deleteMany({ where: { tenantId: acme.tenant.id } });
    let status = 200;
    while (status === 200 && Date.now() - deletedAt < API_KEY_CACHE_TTL_MS * 3) {
      status = (await request(relay.url).get('/v1/tasks').set(bearer(acme))).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
    // one poll interval and a request of slack on a loaded machine
    expect(Date.now() - deletedAt).toBeLessThanOrEqual(API_KEY_CACHE_TTL_MS + 1000);
  });
});
