import request from 'supertest';
import { TestApp } from './support/app';
import { appendTaskEvent, bearer, createTwoTenantRelay, TenantFixture } from './support/factories';

const CALLBACK = 'http://127.0.0.1:9/hook';

describe('subscriptions: PATCH, 409 on a changed re-POST, and the batch route', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    ({ relay, acme, other } = await createTwoTenantRelay());
  });
  afterAll(() => relay.close());

  const post = (body: object, who = acme) =>
    request(relay.url).post('/v1/subscriptions').set(bearer(who)).send(body);

  it('answers a re-POST with other fields 409 pointing to PATCH, and the same fields 200', async () => {
    const body = {
      sid: 'conflict',
      callbackUrl: CALLBACK,
      events: ['task.succeeded'],
      metadata: { a: 1, b: [1, 2] },
    };
    const first = await post(body).expect(201);
    // the same fields, in another key order, and fields left out agree
    await post({ ...body, metadata: { b: [1, 2], a: 1 } }).expect(200);
    await post({ sid: 'conflict', callbackUrl: CALLBACK }).expect(200);
    for (const change of [
      { events: ['task.failed'] },
      { events: null },
      { metadata: { a: 2 } },
      { includePhotoParameters: true },
    ]) {
      const answer = await post({ ...body, ...change }).expect(409);
      expect(typeof answer.body.message).toBe('string');
      expect(answer.body.message).toContain(`PATCH /v1/subscriptions/${first.body.id}`);
      expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual([
        Object.keys(change)[0],
      ]);
    }
    const row = await relay.prisma.subscription.findUniqueOrThrow({ where: { id: first.body.id } });
    expect(row).toMatchObject({ events: ['task.succeeded'], metadata: { a: 1, b: [1, 2] } });
  });

  it('changes events and metadata with PATCH; later webhooks carry the new metadata', async () => {
    const sid = 'patched';
    const created = await post({ sid, callbackUrl: CALLBACK, events: ['task.failed'] }).expect(201);
    const patched = await request(relay.url)
      .patch(`/v1/subscriptions/${created.body.id}`)
      .set(bearer(acme))
      .send({ events: null, metadata: { orderId: 'ord_9' } })
      .expect(200);
    expect(patched.body).toMatchObject({
      id: created.body.id,
      events: null,
      metadata: { orderId: 'ord_9' },
      state: 'active',
    });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: created.body.id },
    });
    expect(deliveries.map((d) => d.eventType)).toEqual(['task.running']);
    expect(JSON.parse(deliveries[0].payload).data.metadata).toEqual({ orderId: 'ord_9' });
    // what POST now answers follows the change
    await post({ sid, callbackUrl: CALLBACK, metadata: { orderId: 'ord_9' } }).expect(200);
    await request(relay.url)
      .patch(`/v1/subscriptions/${created.body.id}`)
      .set(bearer(acme))
      .send({ events: ['task.bogus'] })
      .expect(400);
    await request(relay.url)
      .patch(`/v1/subscriptions/${created.body.id}`)
      .set(bearer(other))
      .send({ metadata: {} })
      .expect(404);
  });

  it('re-enables a disabled subscription with state "active", refuses states other than active and disabled, and canceled ones', async () => {
    const sid = 'disabled-one';
    const created = await post({ sid, callbackUrl: CALLBACK }).expect(201);
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    // as the dispatcher leaves it after a 410
    await relay.prisma.subscription.update({
      where: { id: created.body.id },
      data: { state: 'disabled' },
    });
    await relay.prisma.delivery.updateMany({
      where: { subscriptionId: created.body.id },
      data: { state: 'canceled' },
    });
    await relay.prisma.task.updateMany({
      where: { sid },
      data: { tracking: 'idle', nextPollAt: null },
    });

    for (const state of ['canceled', 'done', 'paused', 1]) {
      const answer = await request(relay.url)
        .patch(`/v1/subscriptions/${created.body.id}`)
        .set(bearer(acme))
        .send({ state })
        .expect(400);
      expect(answer.body.message).toMatch(/^state/);
    }
    const enabled = await request(relay.url)
      .patch(`/v1/subscriptions/${created.body.id}`)
      .set(bearer(acme))
      .send({ state: 'active' })
      .expect(200);
    expect(enabled.body.state).toBe('active');
    const task = await relay.prisma.task.findFirstOrThrow({
      where: { sid, tenantId: acme.tenant.id },
    });
    expect(task.tracking).toBe('active');
    expect(
      await relay.prisma.delivery.count({
        where: { subscriptionId: created.body.id, state: 'pending' },
      }),
    ).toBe(1);

    await request(relay.url)
      .delete(`/v1/subscriptions/${created.body.id}`)
      .set(bearer(acme))
      .expect(200);
    const canceled = await request(relay.url)
      .patch(`/v1/subscriptions/${created.body.id}`)
      .set(bearer(acme))
      .send({ state: 'active' })
      .expect(409);
    expect(canceled.body.message).toMatch(/canceled.*POST/);
  });

  it('registers a batch, answering each item as the single call would', async () => {
    await post({ sid: 'batch-existing', callbackUrl: CALLBACK, metadata: { v: 1 } }).expect(201);
    const items = [
      { sid: 'batch-1', callbackUrl: CALLBACK },
      { sid: 'batch-2', callbackUrl: CALLBACK, events: ['task.succeeded'], metadata: { n: 2 } },
      { sid: 'batch-existing', callbackUrl: CALLBACK },
      { sid: 'batch-existing', callbackUrl: CALLBACK, metadata: { v: 2 } },
      { callbackUrl: CALLBACK },
      { sid: 'batch-3', callbackUrl: 'http://169.254.169.254/' },
      { sid: 'batch-1', callbackUrl: CALLBACK },
      'not an object',
      { sid: 'batch-4', callbackUrl: CALLBACK, bogus: true },
    ];
    const answer = await request(relay.url)
      .post('/v1/subscriptions/batch')
      .set(bearer(acme))
      .send({ items })
      .expect(200);
    const statuses = answer.body.items.map((item: { status: number }) => item.status);
    expect(statuses).toEqual([201, 201, 200, 409, 400, 400, 200, 400, 400]);
    expect(answer.body.items[0].body).toMatchObject({ sid: 'batch-1', state: 'active' });
    expect(answer.body.items[6].body.id).toBe(answer.body.items[0].body.id);
    expect(answer.body.items[1].body).toMatchObject({
      events: ['task.succeeded'],
      metadata: { n: 2 },
    });
    expect(answer.body.items[4].body.message).toBe('sid is required');
    expect(answer.body.items[5].body.message).toMatch(/^callbackUrl/);
    expect(answer.body.items[8].body.message).toMatch(/property bogus should not exist/);
    const tasks = await relay.prisma.task.findMany({
      where: { tenantId: acme.tenant.id, sid: { startsWith: 'batch-' } },
    });
    expect(tasks.map((t) => t.sid).sort()).toEqual(['batch-1', 'batch-2', 'batch-existing']);
    expect(tasks.every((t) => t.tracking === 'active' && t.nextPollAt !== null)).toBe(true);
  });

  it('takes 500 items in one call and refuses 501 or none', async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({
      sid: `bulk-${i}`,
      callbackUrl: CALLBACK,
    }));
    const answer = await request(relay.url)
      .post('/v1/subscriptions/batch')
      .set(bearer(acme))
      .send({ items })
      .expect(200);
    expect(answer.body.items.every((item: { status: number }) => item.status === 201)).toBe(true);
    expect(await relay.prisma.subscription.count({ where: { sid: { startsWith: 'bulk-' } } })).toBe(
      500,
    );
    const again = await request(relay.url)
      .post('/v1/subscriptions/batch')
      .set(bearer(acme))
      .send({ items })
      .expect(200);
    expect(again.body.items.every((item: { status: number }) => item.status === 200)).toBe(true);
    const tooMany = await request(relay.url)
      .post('/v1/subscriptions/batch')
      .set(bearer(acme))
      .send({ items: [...items, { sid: 'one-more', callbackUrl: CALLBACK }] })
      .expect(400);
    expect(tooMany.body.message).toMatch(/^items must contain no more than 500/);
    await request(relay.url)
      .post('/v1/subscriptions/batch')
      .set(bearer(acme))
      .send({ items: [] })
      .expect(400);
    await request(relay.url).post('/v1/subscriptions/batch').set(bearer(acme)).send({}).expect(400);
  });

  it('keeps concurrent single registrations apart: each gets its own answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(
          i % 10 === 9
            ? { sid: `par-${i}`, callbackUrl: 'ftp://x/' }
            : { sid: `par-${i % 20}`, callbackUrl: CALLBACK },
        ),
      ),
    );
    const byStatus = (status: number) => answers.filter((a) => a.status === status).length;
    expect(byStatus(400)).toBe(4);
    // 18 sids (par-9 and par-19 only ever come with the bad URL), each sent twice
    expect(byStatus(201)).toBe(18);
    expect(byStatus(200)).toBe(18);
    for (const [i, answer] of answers.entries()) {
      if (answer.status < 300) expect(answer.body.sid).toBe(`par-${i % 20}`);
    }
    expect(await relay.prisma.subscription.count({ where: { sid: { startsWith: 'par-' } } })).toBe(
      18,
    );
  });
});
