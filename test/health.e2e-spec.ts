import request from 'supertest';
import { createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';

describe('health, metrics and docs', () => {
  let relay: TestApp;

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase());
  });
  afterAll(() => relay.close());

  it('is live and ready on a migrated database', async () => {
    await request(relay.url).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(relay.url).get('/health/ready').expect(200);
    expect(ready.body).toEqual({ status: 'ok', migrations: expect.any(Number) });
  });

  it('is not ready once the database lost a migration', async () => {
    await relay.prisma.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = now()`;
    try {
      const answer = await request(relay.url).get('/health/ready').expect(503);
      expect(answer.body.message).toMatch(/pending migrations/);
    } finally {
      await relay.prisma.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = NULL`;
    }
  });

  it('serves Prometheus metrics and the OpenAPI document', async () => {
    const metrics = await request(relay.url).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.text).toContain('process_cpu_seconds_total');
    const docs = await request(relay.url).get('/docs-json').expect(200);
    expect(docs.body.openapi).toMatch(/^3\./);
    await request(relay.url).get('/docs').expect(200);
  });

  it('answers broken JSON and oversized bodies with clear 4xx', async () => {
    const broken = await request(relay.url)
      .post('/health/live')
      .set('content-type', 'application/json')
      .send('{"sid": ');
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/not valid JSON/);
    const huge = await request(relay.url)
      .post('/health/live')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ blob: 'x'.repeat(1_100_000) }));
    expect(huge.status).toBe(413);
  });
});
