import request from 'supertest';
import { createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { createTenant, TenantFixture } from './support/factories';

describe('API rate limit per key', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase(), { API_RATE_LIMIT: '5' });
    acme = await createTenant(relay);
    other = await createTenant(relay);
  });
  afterAll(() => relay.close());

  it('answers 429 with Retry-After past the limit, counting all routes of a key together', async () => {
    const auth = { Authorization: `Bearer ${acme.apiKey}` };
    const paths = [
      '/v1/subscriptions',
      '/v1/tasks',
      '/v1/webhook-secret',
      '/v1/subscriptions',
      '/v1/tasks',
    ];
    for (const path of paths) await request(relay.url).get(path).set(auth).expect(200);
    const limited = await request(relay.url).get('/v1/tasks').set(auth).expect(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.message).toMatch(/too many requests/);

    // another key has its own budget; health checks are never limited
    await request(relay.url)
      .get('/v1/tasks')
      .set('Authorization', `Bearer ${other.apiKey}`)
      .expect(200);
    for (let i = 0; i < 7; i++) await request(relay.url).get('/health/live').expect(200);
  });

  it('limits callers without a key by address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await request(relay.url).get('/v1/subscriptions')).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });
});
