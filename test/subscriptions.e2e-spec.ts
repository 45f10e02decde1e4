import request from 'supertest';
import { TestApp } from './support/app';
import { appendTaskEvent, bearer, createTwoTenantRelay, TenantFixture } from './support/factories';

const CALLBACK = 'http://127.0.0.1:9/hook';

describe('subscriptions', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    ({ relay, acme, other } = await createTwoTenantRelay());
  });
  afterAll(() => relay.close());

  it('creates a subscription (201), answers the same one again (200) and tracks its task', async () => {
    const body = {
      sid: 'BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e',
      callbackUrl: CALLBACK,
      events: ['task.succeeded', 'task.failed'],
      metadata: { orderId: 'ord_1', nested: { list: [1, 'two', null] } },
      includePhotoParameters: true,
    };
    const first = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send(body)
      .expect(201);
    expect(first.body).toEqual({
      id: expect.stringMatching(/^sub_/),
      sid: body.sid,
      callbackUrl: CALLBACK,
      events: body.events,
      metadata: body.metadata,
      includePhotoParameters: true,
      state: 'active',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const again = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid: body.sid, callbackUrl: CALLBACK })
      .expect(200);
    expect(again.body).toEqual(first.body);

    const task = await relay.prisma.task.findUniqueOrThrow({
      where: { tenantId_sid: { tenantId: acme.tenant.id, sid: body.sid } },
    });
    expect(task.tracking).toBe('active');
    expect(task.nextPollAt).not.toBeNull();
    expect(await relay.prisma.subscription.count({ where: { sid: body.sid } })).toBe(1);
    // another tenant's identical subscription is its own
    const theirs = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(other))
      .send(body)
      .expect(201);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it('defaults events to all, metadata to {} and includePhotoParameters to false', async () => {
    const answer = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid: 'defaults', callbackUrl: CALLBACK })
      .expect(201);
    expect(answer.body).toMatchObject({
      events: null,
      metadata: {},
      includePhotoParameters: false,
    });
  });

  it('takes back what it answers: events null means all', async () => {
    const first = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid: 'echo', callbackUrl: CALLBACK })
      .expect(201);
    const { sid, callbackUrl, events, metadata, includePhotoParameters } = first.body;
    const again = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl, events, metadata, includePhotoParameters })
      .expect(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.events).toBeNull();
  });

  it('answers concurrent identical registrations with one subscription', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        request(relay.url)
          .post('/v1/subscriptions')
          .set(bearer(acme))
          .send({ sid: 'race', callbackUrl: CALLBACK }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await relay.prisma.subscription.count({ where: { sid: 'race' } })).toBe(1);
    expect(await relay.prisma.task.count({ where: { sid: 'race' } })).toBe(1);
  });

  it('tracks one task when singles and batches subscribe many callbacks to one sid at once', async () => {
    const sid = 'crowd';
    const callbacks = Array.from({ length: 12 }, (_, i) => `${CALLBACK}/crowd-${i}`);
    const singles = callbacks.map((callbackUrl) =>
      request(relay.url).post('/v1/subscriptions').set(bearer(acme)).send({ sid, callbackUrl }),
    );
    const batches = [callbacks.slice(0, 6), callbacks.slice(4)].map((urls) =>
      request(relay.url)
        .post('/v1/subscriptions/batch')
        .set(bearer(acme))
        .send({ items: urls.map((callbackUrl) => ({ sid, callbackUrl })) }),
    );
    const [singleAnswers, batchAnswers] = await Promise.all([
      Promise.all(singles),
      Promise.all(batches),
    ]);
    const answers = [
      ...singleAnswers.map((a) => ({ status: a.status, body: a.body })),
      ...batchAnswers.flatMap((b) => b.body.items as { status: number; body: { id: string } }[]),
    ];
    expect(answers.every((a) => a.status === 200 || a.status === 201)).toBe(true);
    // each callback created once; every answer for it names the same subscription
    expect(answers.filter((a) => a.status === 201)).toHaveLength(callbacks.length);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(callbacks.length);
    expect(await relay.prisma.task.count({ where: { sid, tenantId: acme.tenant.id } })).toBe(1);
    expect(
      await relay.prisma.subscription.count({ where: { sid, tenantId: acme.tenant.id } }),
    ).toBe(callbacks.length);
  });

  it('keeps the task polled when a subscribe races the last cancel', async () => {
    for (let round = 0; round < 8; round++) {
      const sid = `cancel-race-${round}`;
      const first = await request(relay.url)
        .post('/v1/subscriptions')
        .set(bearer(acme))
        .send({ sid, callbackUrl: `${CALLBACK}/first` })
        .expect(201);
      await Promise.all([
        request(relay.url)
          .delete(`/v1/subscriptions/${first.body.id}`)
          .set(bearer(acme))
          .expect(200),
        request(relay.url)
          .post('/v1/subscriptions')
          .set(bearer(acme))
          .send({ sid, callbackUrl: `${CALLBACK}/second` })
          .expect(201),
      ]);
      const task = await relay.prisma.task.findFirstOrThrow({
        where: { sid, tenantId: acme.tenant.id },
      });
      // someone still listens, so the task must not have gone idle
      expect(task).toMatchObject({ tracking: 'active' });
      expect(task.nextPollAt).not.toBeNull();
    }
  });

  it("gives a new subscriber a finished task's current state at once, without reopening polling", async () => {
    const sid = 'finished-task';
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: `${CALLBACK}/a` })
      .expect(201);
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.succeeded',
      state: 'succeeded',
      status: 1,
      outputResult: ['cos://bucket/out.webp'],
      tracking: 'completed',
    });
    const late = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: `${CALLBACK}/late`, metadata: { who: 'late' } })
      .expect(201);
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: late.body.id },
    });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      eventType: 'task.succeeded',
      sequence: 2,
      state: 'pending',
    });
    expect(JSON.parse(deliveries[0].payload).data).toMatchObject({
      subscriptionId: late.body.id,
      sid,
      state: 'succeeded',
      outputResult: ['cos://bucket/out.webp'],
      metadata: { who: 'late' },
    });
    const task = await relay.prisma.task.findFirstOrThrow({
      where: { sid, tenantId: acme.tenant.id },
    });
    expect(task.tracking).toBe('completed');

    // a filter that does not want the current state gets nothing
    const filtered = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: `${CALLBACK}/filtered`, events: ['task.failed'] })
      .expect(201);
    expect(await relay.prisma.delivery.count({ where: { subscriptionId: filtered.body.id } })).toBe(
      0,
    );
  });

  it('reads one subscription and lists them with sid and state filters, page by page', async () => {
    const sid = 'listed|sid';
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await request(relay.url)
        .post('/v1/subscriptions')
        .set(bearer(acme))
        .send({ sid, callbackUrl: `${CALLBACK}/${i}` })
        .expect(201);
      ids.push(answer.body.id);
    }
    const one = await request(relay.url)
      .get(`/v1/subscriptions/${ids[0]}`)
      .set(bearer(acme))
      .expect(200);
    expect(one.body).toMatchObject({
      id: ids[0],
      sid,
      callbackUrl: `${CALLBACK}/0`,
      state: 'active',
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: request.Response = await request(relay.url)
        .get('/v1/subscriptions')
        .query({ sid, limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(acme))
        .expect(200);
      seen.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);

    await request(relay.url).delete(`/v1/subscriptions/${ids[1]}`).set(bearer(acme)).expect(200);
    const canceled = await request(relay.url)
      .get('/v1/subscriptions')
      .query({ sid, state: 'canceled' })
      .set(bearer(acme))
      .expect(200);
    expect(canceled.body).toEqual({
      items: [expect.objectContaining({ id: ids[1] })],
      nextCursor: null,
    });
    const all = await request(relay.url)
      .get('/v1/subscriptions')
      .query({ limit: 200 })
      .set(bearer(acme))
      .expect(200);
    expect(all.body.items.every((item: { sid: string }) => typeof item.sid === 'string')).toBe(
      true,
    );
    const theirs = await request(relay.url)
      .get('/v1/subscriptions')
      .query({ sid })
      .set(bearer(other))
      .expect(200);
    expect(theirs.body).toEqual({ items: [], nextCursor: null });
  });

  it('cancels: pending deliveries canceled, and the task idles when nobody listens any more', async () => {
    const sid = 'to-cancel';
    const a = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: `${CALLBACK}/a` })
      .expect(201);
    const b = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: `${CALLBACK}/b` })
      .expect(201);
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    expect(
      await relay.prisma.delivery.count({ where: { subscriptionId: a.body.id, state: 'pending' } }),
    ).toBe(1);

    const canceled = await request(relay.url)
      .delete(`/v1/subscriptions/${a.body.id}`)
      .set(bearer(acme))
      .expect(200);
    expect(canceled.body).toMatchObject({ id: a.body.id, state: 'canceled' });
    expect(
      await relay.prisma.delivery.count({
        where: { subscriptionId: a.body.id, state: 'canceled' },
      }),
    ).toBe(1);
    expect(
      await relay.prisma.delivery.count({ where: { subscriptionId: b.body.id, state: 'pending' } }),
    ).toBe(1);
    const task = () =>
      relay.prisma.task.findFirstOrThrow({ where: { sid, tenantId: acme.tenant.id } });
    expect((await task()).tracking).toBe('active');

    await request(relay.url).delete(`/v1/subscriptions/${b.body.id}`).set(bearer(acme)).expect(200);
    expect((await task()).tracking).toBe('idle');
    // canceling twice is harmless
    await request(relay.url).delete(`/v1/subscriptions/${b.body.id}`).set(bearer(acme)).expect(200);

    // subscribing again revives the same subscription, wakes the task and re-sends the current state
    const revived = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: `${CALLBACK}/a`, metadata: { round: 2 } })
      .expect(200);
    expect(revived.body).toMatchObject({ id: a.body.id, state: 'active', metadata: { round: 2 } });
    expect((await task()).tracking).toBe('active');
    expect(
      await relay.prisma.delivery.count({ where: { subscriptionId: a.body.id, state: 'pending' } }),
    ).toBe(1);
  });

  it("hides other tenants' subscriptions behind 404", async () => {
    const mine = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid: 'private', callbackUrl: CALLBACK })
      .expect(201);
    for (const call of [
      request(relay.url).get(`/v1/subscriptions/${mine.body.id}`),
      request(relay.url).delete(`/v1/subscriptions/${mine.body.id}`),
      request(relay.url).get(`/v1/subscriptions/${mine.body.id}/deliveries`),
      request(relay.url).get('/v1/subscriptions/sub_unknown'),
    ]) {
      const answer = await call.set(bearer(other));
      expect(answer.status).toBe(404);
      expect(answer.text).not.toContain('private');
    }
    const row = await relay.prisma.subscription.findUniqueOrThrow({ where: { id: mine.body.id } });
    expect(row.state).toBe('active');
  });

  it('answers 401 on every route without a key or with a wrong one', async () => {
    const mine = await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid: 'auth', callbackUrl: CALLBACK })
      .expect(201);
    const calls = () => [
      request(relay.url).post('/v1/subscriptions').send({ sid: 'auth-2', callbackUrl: CALLBACK }),
      request(relay.url).get('/v1/subscriptions'),
      request(relay.url).get(`/v1/subscriptions/${mine.body.id}`),
      request(relay.url).delete(`/v1/subscriptions/${mine.body.id}`),
    ];
    for (const auth of [
      undefined,
      'Bearer uxr_wrong',
      `Basic ${Buffer.from('a:b').toString('base64')}`,
    ]) {
      for (const call of calls()) {
        const answer = await (auth ? call.set('Authorization', auth) : call);
        expect(answer.status).toBe(401);
      }
    }
    expect(await relay.prisma.subscription.count({ where: { sid: 'auth-2' } })).toBe(0);
    const row = await relay.prisma.subscription.findUniqueOrThrow({ where: { id: mine.body.id } });
    expect(row.state).toBe('active');
  });
});
