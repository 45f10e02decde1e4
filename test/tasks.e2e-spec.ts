import request from 'supertest';
import { TestApp } from './support/app';
import {
  appendTaskEvent,
  bearer,
  createSubscription,
  createTenant,
  createTwoTenantRelay,
  TenantFixture,
} from './support/factories';

const CALLBACK = 'http://127.0.0.1:9/hook';

describe('tasks and their history', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;

  beforeAll(async () => {
    ({ relay, acme, other } = await createTwoTenantRelay());
  });
  afterAll(() => relay.close());

  const awkwardSids = [
    'BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e',
    'a/b/c',
    '/leading-slash',
    'what?x=1&y=2',
    'hash#fragment',
    'with spaces  and\ttab',
    '任务-画像-🎨',
    '100%25 literal %2F',
    'events',
    '..',
    'x'.repeat(256),
  ];

  it.each(awkwardSids)('round-trips sid %j through the URL', async (sid) => {
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: CALLBACK })
      .expect(201);
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.queued',
      state: 'queued',
      status: 100,
    });
    const path = `/v1/tasks/${encodeURIComponent(sid)}`;
    const task = await request(relay.url).get(path).set(bearer(acme)).expect(200);
    expect(task.body.sid).toBe(sid);
    const events = await request(relay.url).get(`${path}/events`).set(bearer(acme)).expect(200);
    expect(events.body.items).toHaveLength(1);
    await request(relay.url).get(path).set(bearer(other)).expect(404);
  });

  it('shows the task now with every contract field', async () => {
    const sid = 'BT|full-task';
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: CALLBACK })
      .expect(201);
    const fresh = await request(relay.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}`)
      .set(bearer(acme))
      .expect(200);
    expect(fresh.body).toMatchObject({ sid, state: null, tracking: 'active', sequence: 0 });

    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.running',
      state: 'running',
      status: 200,
      progress: 0.5,
    });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.succeeded',
      state: 'succeeded',
      status: 1,
      progress: 1,
      message: 'ok',
      outputResult: ['cos://zyb-uxc-aigc-1253445850/batch_tasks/comfyui/output/a.WEBP'],
      tracking: 'completed',
    });
    const task = await request(relay.url)
      .get(`/v1/tasks/${encodeURIComponent(sid)}`)
      .set(bearer(acme))
      .expect(200);
    expect(Object.keys(task.body).sort()).toEqual(
      [
        'sid',
        'state',
        'status',
        'progress',
        'queueNum',
        'queueTotal',
        'costTime',
        'message',
        'outputResult',
        'photoParameters',
        'tracking',
        'sequence',
        'firstSeenAt',
        'updatedAt',
        'lastPolledAt',
        'nextPollAt',
        'lastError',
        'estimatedStartAt',
        'estimatedFinishAt',
        'estimateBasis',
      ].sort(),
    );
    expect(task.body).toMatchObject({
      sid,
      state: 'succeeded',
      // only a queued task has estimates
      estimatedStartAt: null,
      estimatedFinishAt: null,
      estimateBasis: null,
      status: 1,
      progress: 1,
      message: 'ok',
      outputResult: ['cos://zyb-uxc-aigc-1253445850/batch_tasks/comfyui/output/a.WEBP'],
      tracking: 'completed',
      sequence: 2,
      lastError: null,
    });
  });

  it('leaves photoParameters out of lists unless asked for with ?include=photoParameters', async () => {
    const tenant = await createTenant(relay);
    const sid = 'with-workflow';
    const workflow = { info: 'ok', parameters: { '2': { class_type: 'CheckpointLoaderSimple' } } };
    const subscription = await createSubscription(relay, tenant.tenant, {
      sid,
      callbackUrl: CALLBACK,
    });
    await relay.prisma.task.update({
      where: { id: subscription.taskId },
      data: { photoParameters: workflow },
    });
    const list = (query: Record<string, string>) =>
      request(relay.url).get('/v1/tasks').query(query).set(bearer(tenant));
    const plain = await list({}).expect(200);
    expect(plain.body.items).toHaveLength(1);
    expect(plain.body.items[0]).not.toHaveProperty('photoParameters');
    const included = await list({ include: 'photoParameters' }).expect(200);
    expect(included.body.items[0].photoParameters).toEqual(workflow);
    const one = await request(relay.url).get(`/v1/tasks/${sid}`).set(bearer(tenant)).expect(200);
    expect(one.body.photoParameters).toEqual(workflow);
    const wrong = await list({ include: 'secrets' }).expect(400);
    expect(wrong.body.message).toMatch(/^include must list only photoParameters/);
  });

  it('lists the history oldest first, page by page, upstream errors included', async () => {
    const sid = 'history';
    await request(relay.url)
      .post('/v1/subscriptions')
      .set(bearer(acme))
      .send({ sid, callbackUrl: CALLBACK })
      .expect(201);
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.queued',
      state: 'queued',
      status: 100,
    });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'uxc.error',
      errNo: 5000,
      errMsg: 'busy',
    });
    for (let progress = 0.1; progress < 0.5; progress += 0.1) {
      await appendTaskEvent(relay, acme.tenant, sid, {
        type: 'task.progress',
        state: 'running',
        progress,
      });
    }
    const sequences: number[] = [];
    const types: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await request(relay.url)
        .get(`/v1/tasks/${sid}/events`)
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(acme))
        .expect(200);
      for (const item of page.body.items) {
        sequences.push(item.sequence);
        types.push(item.type);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(sequences).toEqual([1, 2, 3, 4, 5, 6]);
    expect(types.slice(0, 3)).toEqual(['task.queued', 'uxc.error', 'task.progress']);
    const first = await request(relay.url)
      .get(`/v1/tasks/${sid}/events`)
      .query({ limit: 2 })
      .set(bearer(acme))
      .expect(200);
    expect(Object.keys(first.body.items[1]).sort()).toEqual(
      [
        'sequence',
        'type',
        'state',
        'previousState',
        'status',
        'progress',
        'queueNum',
        'queueTotal',
        'costTime',
        'message',
        'outputResult',
        'errNo',
        'errMsg',
        'observedAt',
      ].sort(),
    );
    expect(first.body.items[1]).toMatchObject({ type: 'uxc.error', errNo: 5000, errMsg: 'busy' });
  });

  it('lists tasks filtered by state and tracking', async () => {
    const tenant = await createTenant(relay);
    for (const sid of ['l-1', 'l-2', 'l-3']) {
      await createSubscription(relay, tenant.tenant, { sid, callbackUrl: CALLBACK });
    }
    await appendTaskEvent(relay, tenant.tenant, 'l-2', {
      type: 'task.running',
      state: 'running',
      status: 200,
    });
    await appendTaskEvent(relay, tenant.tenant, 'l-3', {
      type: 'task.failed',
      state: 'failed',
      status: 2,
      tracking: 'completed',
    });
    const list = (query: Record<string, string>) =>
      request(relay.url).get('/v1/tasks').query(query).set(bearer(tenant)).expect(200);
    const sids = (answer: request.Response) =>
      answer.body.items.map((item: { sid: string }) => item.sid);
    expect(sids(await list({}))).toEqual(['l-1', 'l-2', 'l-3']);
    expect(sids(await list({ state: 'running' }))).toEqual(['l-2']);
    expect(sids(await list({ tracking: 'completed' }))).toEqual(['l-3']);
    expect(sids(await list({ tracking: 'active', state: 'failed' }))).toEqual([]);
    const page = await list({ limit: '2' });
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expect(sids(await list({ cursor: page.body.nextCursor }))).toEqual(['l-3']);
  });

  it('answers 404 for an unknown sid and 401 without or with a wrong key', async () => {
    await request(relay.url).get('/v1/tasks/never-seen').set(bearer(acme)).expect(404);
    await request(relay.url).get('/v1/tasks/never-seen/events').set(bearer(acme)).expect(404);
    for (const path of ['/v1/tasks', '/v1/tasks/history', '/v1/tasks/history/events']) {
      await request(relay.url).get(path).expect(401);
      await request(relay.url).get(path).set('Authorization', 'Bearer uxr_nope').expect(401);
    }
    await request(relay.url).get('/v1/tasks/history/events').set(bearer(other)).expect(404);
  });
});
