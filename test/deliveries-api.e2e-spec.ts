import type { DeliveryState } from '../src/common/states';
import request from 'supertest';
import { TestApp } from './support/app';
import {
  appendTaskEvent,
  bearer,
  createSubscription,
  createTwoTenantRelay,
  TenantFixture,
} from './support/factories';

const CALLBACK = 'http://127.0.0.1:9/hook';

describe('deliveries API', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    ({ relay, acme, other } = await createTwoTenantRelay());
  });
  afterAll(() => relay.close());

  /** What the dispatcher records for one attempt. */
  async function recordAttempt(
    deliveryId: string,
    attempt: {
      at: Date;
      statusCode: number | null;
      durationMs: number;
      error: string | null;
      responseBody?: string | null;
    },
    state: DeliveryState,
  ): Promise<void> {
    await relay.prisma.deliveryAttempt.create({ data: { deliveryId, ...attempt } });
    await relay.prisma.delivery.update({
      where: { id: deliveryId },
      data: {
        attempts: { increment: 1 },
        state,
        nextAttemptAt: new Date(attempt.at.getTime() + 5000),
        completedAt: state === 'pending' ? null : attempt.at,
      },
    });
  }

  async function subscriptionWithDeliveries(sid: string) {
    const subscription = await createSubscription(relay, acme.tenant, {
      sid,
      callbackUrl: CALLBACK,
    });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.failed',
      state: 'failed',
      status: 2,
      tracking: 'completed',
    });
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: subscription.id },
      orderBy: { sequence: 'asc' },
    });
    return { subscription, deliveries };
  }

  it("lists a subscription's deliveries with their last attempt, page by page", async () => {
    const { subscription, deliveries } = await subscriptionWithDeliveries('listed');
    expect(deliveries).toHaveLength(2);
    await recordAttempt(
      deliveries[0].id,
      { at: new Date('2026-11-27T05:00:00Z'), statusCode: 500, durationMs: 12, error: null },
      'pending',
    );
    await recordAttempt(
      deliveries[0].id,
      { at: new Date('2026-11-27T05:00:05Z'), statusCode: 204, durationMs: 8, error: null },
      'succeeded',
    );

    const first = await request(relay.url)
      .get(`/v1/subscriptions/${subscription.id}/deliveries`)
      .query({ limit: 1 })
      .set(bearer(acme))
      .expect(200);
    expect(first.body.items).toEqual([
      {
        id: deliveries[0].id,
        subscriptionId: subscription.id,
        eventType: 'task.running',
        sequence: 1,
        state: 'succeeded',
        attemptCount: 2,
        nextAttemptAt: null,
        lastAttempt: {
          at: '2026-11-27T05:00:05.000Z',
          statusCode: 204,
          durationMs: 8,
          error: null,
          responseHeaders: null,
          responseBody: null,
        },
        createdAt: expect.any(String),
        completedAt: '2026-11-27T05:00:05.000Z',
      },
    ]);
    const second = await request(relay.url)
      .get(`/v1/subscriptions/${subscription.id}/deliveries`)
      .query({ cursor: first.body.nextCursor })
      .set(bearer(acme))
      .expect(200);
    expect(second.body.items).toEqual([
      expect.objectContaining({
        id: deliveries[1].id,
        eventType: 'task.failed',
        state: 'pending',
        attemptCount: 0,
        lastAttempt: null,
      }),
    ]);
    expect(second.body.nextCursor).toBeNull();
  });

  it('shows one delivery with every attempt and its exact payload', async () => {
    const { deliveries } = await subscriptionWithDeliveries('detailed');
    const id = deliveries[1].id;
    await recordAttempt(
      id,
      {
        at: new Date('2026-11-27T06:00:00Z'),
        statusCode: null,
        durationMs: 15000,
        error: 'timeout after 15000ms',
      },
      'pending',
    );
    await recordAttempt(
      id,
      {
        at: new Date('2026-11-27T06:00:05Z'),
        statusCode: 503,
        durationMs: 20,
        error: null,
        responseBody: '{"error":"down for maintenance"}',
      },
      'failed',
    );
    const answer = await request(relay.url)
      .get(`/v1/deliveries/${id}`)
      .set(bearer(acme))
      .expect(200);
    expect(answer.body).toMatchObject({
      id,
      state: 'failed',
      attemptCount: 2,
      eventType: 'task.failed',
      sequence: 2,
    });
    expect(answer.body.attempts).toEqual([
      {
        at: '2026-11-27T06:00:00.000Z',
        statusCode: null,
        durationMs: 15000,
        error: 'timeout after 15000ms',
        responseHeaders: null,
        responseBody: null,
      },
      {
        at: '2026-11-27T06:00:05.000Z',
        statusCode: 503,
        durationMs: 20,
        error: null,
        responseHeaders: null,
        responseBody: '{"error":"down for maintenance"}',
      },
    ]);
    expect(answer.body.lastAttempt).toEqual(answer.body.attempts[1]);
    expect(answer.body.payload).toEqual(JSON.parse(deliveries[1].payload));
    expect(answer.body.payload).toMatchObject({
      type: 'task.failed',
      data: { sid: 'detailed', sequence: 2 },
    });
  });

  it('redelivers a failed delivery: pending again, due now, same id', async () => {
    const { deliveries } = await subscriptionWithDeliveries('redelivered');
    const id = deliveries[1].id;
    await recordAttempt(
      id,
      { at: new Date(Date.now() - 60_000), statusCode: 500, durationMs: 5, error: null },
      'failed',
    );
    await relay.prisma.subscription.update({
      where: { id: deliveries[1].subscriptionId },
      data: { state: 'done' },
    });
    const before = Date.now();
    const answer = await request(relay.url)
      .post(`/v1/deliveries/${id}/redeliver`)
      .set(bearer(acme))
      .expect(202);
    expect(answer.body).toMatchObject({
      id,
      state: 'pending',
      attemptCount: 1,
      completedAt: null,
    });
    const row = await relay.prisma.delivery.findUniqueOrThrow({ where: { id } });
    expect(row.state).toBe('pending');
    expect(row.payload).toBe(deliveries[1].payload);
    expect(row.nextAttemptAt.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(row.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    const subscription = await relay.prisma.subscription.findUniqueOrThrow({
      where: { id: row.subscriptionId },
    });
    expect(subscription.state).toBe('active');
  });

  it('refuses to redeliver for a canceled subscription', async () => {
    const { subscription, deliveries } = await subscriptionWithDeliveries('canceled-sub');
    await request(relay.url)
      .delete(`/v1/subscriptions/${subscription.id}`)
      .set(bearer(acme))
      .expect(200);
    const answer = await request(relay.url)
      .post(`/v1/deliveries/${deliveries[0].id}/redeliver`)
      .set(bearer(acme))
      .expect(409);
    expect(answer.body.message).toMatch(/canceled/);
    expect(
      (await relay.prisma.delivery.findUniqueOrThrow({ where: { id: deliveries[0].id } })).state,
    ).toBe('canceled');
  });

  it("hides other tenants' deliveries behind 404 and needs a key", async () => {
    const { subscription, deliveries } = await subscriptionWithDeliveries('isolated');
    const id = deliveries[0].id;
    for (const call of [
      () => request(relay.url).get(`/v1/subscriptions/${subscription.id}/deliveries`),
      () => request(relay.url).get(`/v1/deliveries/${id}`),
      () => request(relay.url).post(`/v1/deliveries/${id}/redeliver`),
    ]) {
      expect((await call().set(bearer(other))).status).toBe(404);
      expect((await call()).status).toBe(401);
      expect((await call().set('Authorization', 'Bearer uxr_wrong')).status).toBe(401);
    }
    await request(relay.url).get('/v1/deliveries/msg_unknown').set(bearer(acme)).expect(404);
    const row = await relay.prisma.delivery.findUniqueOrThrow({ where: { id } });
    expect(row.state).toBe('pending');
    expect(row.nextAttemptAt.getTime()).toBe(deliveries[0].nextAttemptAt.getTime());
  });

  it("lists the tenant's deliveries across subscriptions, newest first, by state and event type", async () => {
    const a = await subscriptionWithDeliveries('across-a');
    const b = await subscriptionWithDeliveries('across-b');
    await recordAttempt(
      b.deliveries[1].id,
      { at: new Date('2026-11-27T07:00:00Z'), statusCode: 500, durationMs: 9, error: null },
      'failed',
    );
    const ours = new Set([...a.deliveries, ...b.deliveries].map((d) => d.id));

    const all = await request(relay.url)
      .get('/v1/deliveries')
      .query({ limit: 200 })
      .set(bearer(acme))
      .expect(200);
    const listed = (all.body.items as { id: string }[])
      .map((d) => d.id)
      .filter((id) => ours.has(id));
    expect(listed).toEqual([...ours].sort().reverse());

    const failed = await request(relay.url)
      .get('/v1/deliveries')
      .query({ state: 'failed', eventType: 'task.failed' })
      .set(bearer(acme))
      .expect(200);
    expect(failed.body.items).toContainEqual(
      expect.objectContaining({
        id: b.deliveries[1].id,
        subscriptionId: b.subscription.id,
        state: 'failed',
        lastAttempt: expect.objectContaining({ statusCode: 500 }),
      }),
    );
    expect(failed.body.items.every((d: { state: string }) => d.state === 'failed')).toBe(true);

    const page = await request(relay.url)
      .get('/v1/deliveries')
      .query({ limit: 1 })
      .set(bearer(acme))
      .expect(200);
    const next = await request(relay.url)
      .get('/v1/deliveries')
      .query({ limit: 1, cursor: page.body.nextCursor })
      .set(bearer(acme))
      .expect(200);
    expect(next.body.items[0].id < page.body.items[0].id).toBe(true);

    const foreign = await request(relay.url).get('/v1/deliveries').set(bearer(other)).expect(200);
    expect(foreign.body.items.filter((d: { id: string }) => ours.has(d.id))).toEqual([]);

    const bad = await request(relay.url)
      .get('/v1/deliveries')
      .query({ state: 'lost' })
      .set(bearer(acme))
      .expect(400);
    expect(JSON.stringify(bad.body.message)).toContain('state');
    await request(relay.url).get('/v1/deliveries').expect(401);
  });
});
