import request from 'supertest';
import { TestApp, createTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { TenantFixture, bearer, createTenant } from './support/factories';

const LIMIT = 6;

describe('API_RATE_LIMIT across two API instances on one database', () => {
  let relays: TestApp[];
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    relays = [
      await createTestApp(databaseUrl, { API_RATE_LIMIT: String(LIMIT) }),
      await createTestApp(databaseUrl, { API_RATE_LIMIT: String(LIMIT) }),
    ];
    acme = await createTenant(relays[0]);
    other = await createTenant(relays[0]);
  });
  afterAll(async () => {
    for (const relay of relays) await relay.close();
  });

  it('counts a key once over both instances: the next request past the limit is refused by either', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      statuses.push(
        (
          await request(relays[i % 2].url)
            .get('/v1/tasks')
            .set(bearer(acme))
        ).status,
      );
    }
    expect(statuses).toEqual(Array(LIMIT).fill(200));
    for (const relay of relays) {
      const refused = await request(relay.url).get('/v1/subscriptions').set(bearer(acme));
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    // another key keeps its own budget on both
    for (const relay of relays) {
      await request(relay.url).get('/v1/tasks').set(bearer(other)).expect(200);
    }
  });

  it('keeps no API key in the shared counters, only its hash', async () => {
    const rows = await relays[0].prisma.$queryRaw<{ key: string }[]>`
      SELECT key FROM api_throttle_counters`;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.key).not.toContain(acme.apiKey);
      expect(row.key).toMatch(/^default:key:[0-9a-f]{64}$|^default:ip:/);
    }
  });
});
