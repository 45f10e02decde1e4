import { createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import {
  appendTaskEvent,
  createTenant,
  createTwoTenantRelay,
  TenantFixture,
} from './support/factories';
import {
  FIXTURE,
  queued,
  running,
  startPollerWorld,
  waitForEvents,
} from './support/poller-harness';
import { api, createEndpoint } from './support/endpoints';
import { ReceivedRequest, WebhookReceiver } from './support/receiver';
import { waitFor } from './support/wait';

interface Body {
  type: string;
  data: {
    endpointId?: string;
    subscriptionId?: string;
    sid: string;
    sequence: number;
    metadata: Record<string, unknown>;
  };
}

const bodyOf = (request: ReceivedRequest): Body => request.json as Body;

describe('endpoints and tracked tasks', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function receiver(): Promise<WebhookReceiver> {
    const started = await WebhookReceiver.start();
    cleanups.push(() => started.close());
    return started;
  }

  it("sends a tracked sid's lifecycle to two endpoints, each filtered and signed with its own secret", async () => {
    const world = await startPollerWorld({
      DISPATCHER_ENABLED: 'true',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms',
    });
    cleanups.push(() => world.close());
    const { sim, relay, tenant } = world;
    const all = await receiver();
    const finals = await receiver();
    const a = await createEndpoint(relay, tenant, { url: all.url('/all') });
    const sid = FIXTURE.data.sid as string;
    sim.simulator.scriptTask({
      sid,
      mode: 'manual',
      steps: [queued(2), running(0.5), { data: FIXTURE.data }],
    });
    const tracked = await api(relay, tenant, 'POST', '/v1/tasks', {
      sid,
      metadata: { order: 7 },
    });
    expect(tracked.status).toBe(201);
    expect(tracked.json).toMatchObject({ sid, metadata: { order: 7 } });
    expect((await api(relay, tenant, 'POST', '/v1/tasks', { sid })).status).toBe(200);

    await waitForEvents(relay, tenant.tenant.id, sid, 1);
    // added after the task was tracked: it hears of the task's later events
    const b = await createEndpoint(relay, tenant, {
      url: finals.url('/finals'),
      events: ['task.succeeded', 'task.failed'],
    });
    sim.simulator.advance(sid);
    await waitForEvents(relay, tenant.tenant.id, sid, 2);
    sim.simulator.advance(sid);

    const toAll = await all.waitForCount(3, 15_000);
    const toFinals = await finals.waitForCount(1, 15_000);
    expect(toAll.map((r) => bodyOf(r).type)).toEqual([
      'task.queued',
      'task.running',
      'task.succeeded',
    ]);
    expect(toFinals.map((r) => bodyOf(r).type)).toEqual(['task.succeeded']);
    for (const request of toAll) {
      expect(WebhookReceiver.verifies(request, a.secret)).toBe(true);
      expect(WebhookReceiver.verifies(request, b.secret)).toBe(false);
      expect(WebhookReceiver.verifies(request, tenant.webhookSecret)).toBe(false);
      expect(bodyOf(request).data).toMatchObject({ endpointId: a.id, sid, metadata: { order: 7 } });
      expect(bodyOf(request).data.subscriptionId).toBeUndefined();
    }
    expect(WebhookReceiver.verify(toFinals[0], b.secret)).toBeTruthy();
    expect(WebhookReceiver.verifies(toFinals[0], a.secret)).toBe(false);
    expect(bodyOf(toFinals[0]).data).toMatchObject({ endpointId: b.id, sid });
    // one task, polled once per cycle however many endpoints listen
    expect(await relay.prisma.task.count()).toBe(1);
    const listed = await api(relay, tenant, 'GET', '/v1/subscriptions');
    expect(listed.json.items).toEqual([]);
  }, 60_000);

  it('creates, lists, changes and deletes endpoints, refusing bad input and foreign ids', async () => {
    const { relay, acme, other } = await createTwoTenantRelay();
    cleanups.push(() => relay.close());

    const missing = await api(relay, acme, 'POST', '/v1/endpoints', {});
    expect(missing.status).toBe(400);
    expect(missing.json.message).toMatch(/url/);
    const ftp = await api(relay, acme, 'POST', '/v1/endpoints', { url: 'ftp://example.com/x' });
    expect(ftp.status).toBe(400);
    expect(ftp.json.errors[0].field).toBe('url');
    const badFilter = await api(relay, acme, 'POST', '/v1/endpoints', {
      url: 'http://127.0.0.1:9/x',
      events: ['task.nope'],
    });
    expect(badFilter.status).toBe(400);
    expect(badFilter.json.message).toMatch(/events/);

    const created = await api(relay, acme, 'POST', '/v1/endpoints', {
      url: 'http://127.0.0.1:9/one',
      description: 'first',
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: expect.stringMatching(/^ep_/),
      url: 'http://127.0.0.1:9/one',
      events: null,
      description: 'first',
      state: 'active',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(JSON.stringify(created.json)).not.toMatch(/whsec_/);
    const id = created.json.id as string;
    for (let i = 0; i < 2; i++) {
      await api(relay, acme, 'POST', '/v1/endpoints', { url: `http://127.0.0.1:9/more${i}` });
    }
    const page = await api(relay, acme, 'GET', '/v1/endpoints?limit=2');
    expect(page.json.items).toHaveLength(2);
    expect(page.json.items[0].id).toBe(id);
    const rest = await api(
      relay,
      acme,
      'GET',
      `/v1/endpoints?limit=2&cursor=${page.json.nextCursor}`,
    );
    expect(rest.json.items).toHaveLength(1);
    expect(rest.json.nextCursor).toBeNull();
    expect((await api(relay, other, 'GET', '/v1/endpoints')).json.items).toEqual([]);

    for (const [method, path, body] of [
      ['GET', `/v1/endpoints/${id}`, undefined],
      ['PATCH', `/v1/endpoints/${id}`, { description: 'x' }],
      ['DELETE', `/v1/endpoints/${id}`, undefined],
      ['GET', `/v1/endpoints/${id}/secret`, undefined],
      ['GET', `/v1/endpoints/${id}/deliveries`, undefined],
      ['POST', `/v1/endpoints/${id}/secret/rotate`, undefined],
      ['POST', `/v1/endpoints/${id}/recover`, { since: '2026-01-01T00:00:00Z' }],
    ] as const) {
      expect([method, path, (await api(relay, other, method, path, body)).status]).toEqual([
        method,
        path,
        404,
      ]);
    }

    const patched = await api(relay, acme, 'PATCH', `/v1/endpoints/${id}`, {
      events: ['task.succeeded'],
      description: null,
    });
    expect(patched.json).toMatchObject({ events: ['task.succeeded'], description: null });
    const badState = await api(relay, acme, 'PATCH', `/v1/endpoints/${id}`, { state: 'paused' });
    expect(badState.status).toBe(400);
    expect(badState.json.message).toMatch(/state/);
    const badUrl = await api(relay, acme, 'PATCH', `/v1/endpoints/${id}`, {
      url: 'http://169.254.169.254/latest',
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.json.errors[0].field).toBe('url');

    const before = await api(relay, acme, 'GET', `/v1/endpoints/${id}/secret`);
    const rotated = await api(relay, acme, 'POST', `/v1/endpoints/${id}/secret/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(before.json.secret);
    expect((await api(relay, acme, 'GET', `/v1/endpoints/${id}/secret`)).json.secret).toBe(
      rotated.json.secret,
    );

    const noSince = await api(relay, acme, 'POST', `/v1/endpoints/${id}/recover`, {});
    expect(noSince.status).toBe(400);
    expect(noSince.json.errors[0].field).toBe('since');
    const badSince = await api(relay, acme, 'POST', `/v1/endpoints/${id}/recover`, {
      since: 'yesterday',
    });
    expect(badSince.json.errors[0].field).toBe('since');
    const backwards = await api(relay, acme, 'POST', `/v1/endpoints/${id}/recover`, {
      since: '2026-02-01T00:00:00Z',
      until: '2026-01-01T00:00:00Z',
    });
    expect(backwards.status).toBe(400);
    expect(backwards.json.errors[0].field).toBe('until');
    expect((await api(relay, other, 'GET', '/v1/recoveries/rcv_unknown')).status).toBe(404);

    expect((await api(relay, acme, 'DELETE', `/v1/endpoints/${id}`)).status).toBe(204);
    expect((await api(relay, acme, 'GET', `/v1/endpoints/${id}`)).status).toBe(404);
  });

  it('tracks sids one by one and in batches, answered per item', async () => {
    const { relay, acme } = await createTwoTenantRelay();
    cleanups.push(() => relay.close());
    const batch = await api(relay, acme, 'POST', '/v1/tasks/batch', {
      items: [{ sid: 'BT|a' }, { sid: 'BT|b', metadata: { n: 1 } }, { sid: '' }, 'nope'],
    });
    expect(batch.status).toBe(200);
    expect(batch.json.items.map((i: { status: number }) => i.status)).toEqual([201, 201, 400, 400]);
    expect(batch.json.items[1].body).toMatchObject({ sid: 'BT|b', metadata: { n: 1 } });
    expect(batch.json.items[2].body.message).toMatch(/sid/);
    const again = await api(relay, acme, 'POST', '/v1/tasks/batch', {
      items: [{ sid: 'BT|a' }, { sid: 'BT|c' }],
    });
    expect(again.json.items.map((i: { status: number }) => i.status)).toEqual([200, 201]);
    const tooMany = await api(relay, acme, 'POST', '/v1/tasks/batch', {
      items: Array.from({ length: 501 }, (_, i) => ({ sid: `s${i}` })),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.message).toMatch(/items/);
    const task = await api(relay, acme, 'GET', `/v1/tasks/${encodeURIComponent('BT|b')}`);
    expect(task.status).toBe(200);
    expect(task.json.tracking).toBe('active');
  });

  describe('delivery rules per endpoint', () => {
    let relay: TestApp;
    let fixture: TenantFixture;

    beforeEach(async () => {
      relay = await createTestApp(await createTestDatabase(), {
        DISPATCHER_ENABLED: 'true',
        WEBHOOK_RETRY_SCHEDULE: '100ms,100ms',
        WEBHOOK_TIMEOUT_MS: '2000',
      });
      cleanups.push(() => relay.close());
      fixture = await createTenant(relay);
    });

    const deliveriesOf = (endpointId: string) =>
      relay.prisma.delivery.findMany({
        where: { subscription: { endpointId } },
        orderBy: { sequence: 'asc' },
      });

    it('is disabled by a 410, holds what follows, and sends it in order when re-enabled', async () => {
      const hook = await receiver();
      hook.setAnswer({ status: 410 });
      const endpoint = await createEndpoint(relay, fixture, { url: hook.url('/gone') });
      await api(relay, fixture, 'POST', '/v1/tasks', { sid: 'BT|held' });
      await appendTaskEvent(relay, fixture.tenant, 'BT|held', {
        type: 'task.queued',
        state: 'queued',
      });
      await hook.waitForCount(1);
      await waitFor('the endpoint to be disabled', async () => {
        const row = await api(relay, fixture, 'GET', `/v1/endpoints/${endpoint.id}`);
        return row.json.state === 'disabled';
      });
      await appendTaskEvent(relay, fixture.tenant, 'BT|held', {
        type: 'task.running',
        state: 'running',
      });
      await appendTaskEvent(relay, fixture.tenant, 'BT|held', {
        type: 'task.succeeded',
        state: 'succeeded',
        tracking: 'completed',
      });
      const held = await deliveriesOf(endpoint.id);
      expect(held.map((d) => [d.eventType, d.state])).toEqual([
        ['task.queued', 'held'],
        ['task.running', 'held'],
        ['task.succeeded', 'held'],
      ]);
      expect(hook.requests).toHaveLength(1);
      const listed = await api(relay, fixture, 'GET', `/v1/endpoints/${endpoint.id}/deliveries`);
      expect(listed.json.items.map((d: { state: string }) => d.state)).toEqual([
        'held',
        'held',
        'held',
      ]);

      hook.setAnswer({ status: 200 });
      const enabled = await api(relay, fixture, 'PATCH', `/v1/endpoints/${endpoint.id}`, {
        state: 'active',
      });
      expect(enabled.json.state).toBe('active');
      const got = await hook.waitForCount(4);
      expect(got.slice(1).map((r) => bodyOf(r).type)).toEqual([
        'task.queued',
        'task.running',
        'task.succeeded',
      ]);
      expect(got.slice(1).map((r) => r.webhookId)).toEqual(held.map((d) => d.id));
      expect(got.every((r) => WebhookReceiver.verifies(r, endpoint.secret))).toBe(true);
    });

    it('recovers everything a receiver missed during the whole retry schedule, in order, with the original ids', async () => {
      const hook = await receiver();
      hook.setAnswer({ status: 500 });
      const since = new Date(Date.now() - 1000).toISOString();
      const endpoint = await createEndpoint(relay, fixture, { url: hook.url('/down') });
      await api(relay, fixture, 'POST', '/v1/tasks', { sid: 'BT|outage' });
      for (const [type, state] of [
        ['task.queued', 'queued'],
        ['task.running', 'running'],
        ['task.succeeded', 'succeeded'],
      ] as const) {
        await appendTaskEvent(relay, fixture.tenant, 'BT|outage', { type, state });
      }
      await waitFor(
        'every delivery to fail for good',
        async () => (await deliveriesOf(endpoint.id)).every((d) => d.state === 'failed'),
        15_000,
      );
      const failed = await deliveriesOf(endpoint.id);
      expect(failed).toHaveLength(3);
      const before = hook.requests.length;

      hook.setAnswer({ status: 204 });
      const started = await api(relay, fixture, 'POST', `/v1/endpoints/${endpoint.id}/recover`, {
        since,
      });
      expect(started.status).toBe(202);
      expect(started.json.id).toMatch(/^rcv_/);
      const got = (await hook.waitForCount(before + 3)).slice(before);
      expect(got.map((r) => bodyOf(r).data.sequence)).toEqual(failed.map((d) => d.sequence));
      expect(got.map((r) => r.webhookId)).toEqual(failed.map((d) => d.id));
      expect(got.every((r) => WebhookReceiver.verifies(r, endpoint.secret))).toBe(true);
      const progress = await waitFor('the recovery to complete', async () => {
        const row = await api(relay, fixture, 'GET', `/v1/recoveries/${started.json.id}`);
        return row.json.state === 'completed' ? row.json : null;
      });
      expect(progress).toMatchObject({
        endpointId: endpoint.id,
        total: 3,
        succeeded: 3,
        pending: 0,
        failed: 0,
      });
    });

    it('recovers a subscription too, and leaves deliveries outside the window alone', async () => {
      const hook = await receiver();
      hook.setAnswer({ status: 500 });
      const created = await api(relay, fixture, 'POST', '/v1/subscriptions', {
        sid: 'BT|sub-outage',
        callbackUrl: hook.url('/sub'),
      });
      expect(created.status).toBe(201);
      const sub = created.json.id as string;
      await appendTaskEvent(relay, fixture.tenant, 'BT|sub-outage', {
        type: 'task.queued',
        state: 'queued',
      });
      await waitFor('the first delivery to fail', async () => {
        const rows = await relay.prisma.delivery.findMany({ where: { subscriptionId: sub } });
        return rows.length === 1 && rows[0].state === 'failed';
      });
      await new Promise((done) => setTimeout(done, 20));
      const since = new Date().toISOString();
      await appendTaskEvent(relay, fixture.tenant, 'BT|sub-outage', {
        type: 'task.running',
        state: 'running',
      });
      await waitFor('the second delivery to fail', async () => {
        const rows = await relay.prisma.delivery.findMany({ where: { subscriptionId: sub } });
        return rows.length === 2 && rows.every((d) => d.state === 'failed');
      });
      const before = hook.requests.length;
      hook.setAnswer({ status: 200 });
      const started = await api(relay, fixture, 'POST', `/v1/subscriptions/${sub}/recover`, {
        since,
      });
      expect(started.status).toBe(202);
      const [got] = (await hook.waitForCount(before + 1)).slice(before);
      expect(bodyOf(got)).toMatchObject({ type: 'task.running', data: { subscriptionId: sub } });
      const progress = await waitFor('the recovery to complete', async () => {
        const row = await api(relay, fixture, 'GET', `/v1/recoveries/${started.json.id}`);
        return row.json.state === 'completed' ? row.json : null;
      });
      expect(progress).toMatchObject({ subscriptionId: sub, total: 1, succeeded: 1 });
      const rows = await relay.prisma.delivery.findMany({
        where: { subscriptionId: sub },
        orderBy: { sequence: 'asc' },
      });
      expect(rows.map((d) => d.state)).toEqual(['failed', 'succeeded']);
    });
  });

  it('keeps a queued recovery in the database: a relay started later runs it', async () => {
    const databaseUrl = await createTestDatabase();
    const hook = await receiver();
    // no dispatcher: the recovery is only queued
    const first = await createTestApp(databaseUrl);
    const fixture = await createTenant(first);
    const since = new Date(Date.now() - 1000).toISOString();
    const created = await api(first, fixture, 'POST', '/v1/subscriptions', {
      sid: 'BT|restart',
      callbackUrl: hook.url('/restart'),
    });
    await appendTaskEvent(first, fixture.tenant, 'BT|restart', {
      type: 'task.queued',
      state: 'queued',
    });
    // canceled before it was ever sent
    await api(first, fixture, 'DELETE', `/v1/subscriptions/${created.json.id}`);
    const [canceled] = await first.prisma.delivery.findMany({
      where: { subscriptionId: created.json.id },
    });
    expect(canceled.state).toBe('canceled');
    const started = await api(
      first,
      fixture,
      'POST',
      `/v1/subscriptions/${created.json.id}/recover`,
      {
        since,
      },
    );
    expect(started.status).toBe(202);
    expect((await api(first, fixture, 'GET', `/v1/recoveries/${started.json.id}`)).json.state).toBe(
      'queued',
    );
    await first.close();

    const second = await createTestApp(databaseUrl, { DISPATCHER_ENABLED: 'true' });
    cleanups.push(() => second.close());
    const [got] = await hook.waitForCount(1);
    expect(got.webhookId).toBe(canceled.id);
    expect(WebhookReceiver.verifies(got, fixture.webhookSecret)).toBe(true);
    const progress = await waitFor('the recovery to complete', async () => {
      const row = await api(second, fixture, 'GET', `/v1/recoveries/${started.json.id}`);
      return row.json.state === 'completed' ? row.json : null;
    });
    expect(progress).toMatchObject({ total: 1, succeeded: 1 });
  });
});
