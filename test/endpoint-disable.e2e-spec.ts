import { TestApp } from './support/app';
import { appendTaskEvent, createTwoTenantRelay, TenantFixture } from './support/factories';
import { api, createEndpoint, Json } from './support/endpoints';
import { ReceivedRequest, WebhookReceiver } from './support/receiver';
import { waitFor } from './support/wait';

interface Body {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

const bodyOf = (request: ReceivedRequest): Body => request.json as Body;

describe('endpoints given up on: WEBHOOK_DISABLE_AFTER, endpoint.disabled, disabling by hand', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;
  const receivers: WebhookReceiver[] = [];

  async function receiver(options: Parameters<typeof WebhookReceiver.start>[0] = {}) {
    const started = await WebhookReceiver.start(options);
    receivers.push(started);
    return started;
  }

  // the shared helpers, on this file's relay
  const call = (fixture: TenantFixture, method: string, path: string, body?: unknown) =>
    api(relay, fixture, method, path, body);
  const newEndpoint = (fixture: TenantFixture, input: { url: string; events?: string[] }) =>
    createEndpoint(relay, fixture, input);

  const deliveriesOf = (endpointId: string) =>
    relay.prisma.delivery.findMany({
      where: { subscription: { endpointId } },
      orderBy: [{ taskId: 'asc' }, { sequence: 'asc' }],
    });

  beforeAll(async () => {
    ({ relay, acme, other } = await createTwoTenantRelay({
      DISPATCHER_ENABLED: 'true',
      // many short retries: deliveries stay pending (failing) past the window
      WEBHOOK_RETRY_SCHEDULE: Array.from({ length: 60 }, () => '250ms').join(','),
      WEBHOOK_DISABLE_AFTER: '2s',
    }));
  });
  afterAll(async () => {
    await relay.close();
    for (const started of receivers) await started.stop();
  });

  it('disables a failing endpoint as a whole, holds every task, alerts the alertUrl and the endpoints that ask, and sends what it held in order on re-enable', async () => {
    const down = await receiver({ answer: { status: 503 } });
    const alertUrl = await receiver({ secrets: [acme.webhookSecret] });
    const listener = await receiver();
    const unfiltered = await receiver();
    const unconcerned = await receiver();
    expect(
      (await call(acme, 'PATCH', '/v1/tenant', { alertUrl: alertUrl.url('/alerts') })).status,
    ).toBe(200);

    const failing = await newEndpoint(acme, { url: down.url('/down') });
    const asks = await newEndpoint(acme, {
      url: listener.url('/ops'),
      events: ['endpoint.disabled'],
    });
    const all = await newEndpoint(acme, { url: unfiltered.url('/all') });
    await newEndpoint(acme, { url: unconcerned.url('/succeeded'), events: ['task.succeeded'] });

    // two tasks: the endpoint is one target across both of its rows
    for (const sid of ['BT|ep-down-1', 'BT|ep-down-2']) {
      expect((await call(acme, 'POST', '/v1/tasks', { sid })).status).toBe(201);
      await appendTaskEvent(relay, acme.tenant, sid, { type: 'task.queued', state: 'queued' });
      await appendTaskEvent(relay, acme.tenant, sid, { type: 'task.running', state: 'running' });
    }

    const [alert] = await alertUrl.waitFor((r) => r.some((x) => x.path === '/alerts'), 20_000);
    expect(alert.status).toBe(200); // verified with the tenant's secret
    const verified = WebhookReceiver.verify(alert, acme.webhookSecret) as Body;
    expect(verified.type).toBe('endpoint.disabled');
    expect(verified.data).toMatchObject({
      endpointId: failing.id,
      url: down.url('/down'),
      heldDeliveries: 4,
    });
    expect(verified.data.reason).toContain('WEBHOOK_DISABLE_AFTER 2s');
    const failingSince = Date.parse(verified.data.failingSince as string);
    const disabledAt = Date.parse(verified.data.disabledAt as string);
    expect(disabledAt - failingSince).toBeGreaterThanOrEqual(2000);
    expect(verified.timestamp).toBe(verified.data.disabledAt);

    // the endpoint that asked for endpoint.disabled, and the one without a
    // filter, each get it signed with their own secret; one filtered on
    // task events does not
    const [toListener] = await listener.waitFor((r) => r.length >= 1, 10_000);
    expect(WebhookReceiver.verifies(toListener, asks.secret)).toBe(true);
    expect(WebhookReceiver.verifies(toListener, acme.webhookSecret)).toBe(false);
    expect(bodyOf(toListener)).toEqual(verified);
    await unfiltered.waitFor((r) => r.some((x) => bodyOf(x).type === 'endpoint.disabled'));
    const toAll = unfiltered.on('/all').find((x) => bodyOf(x).type === 'endpoint.disabled')!;
    expect(WebhookReceiver.verifies(toAll, all.secret)).toBe(true);
    expect(bodyOf(toAll)).toEqual(verified);

    const shown = await call(acme, 'GET', `/v1/endpoints/${failing.id}`);
    expect(shown.json.state).toBe('disabled');
    const held = await deliveriesOf(failing.id);
    expect(held.map((d) => d.state)).toEqual(['held', 'held', 'held', 'held']);
    const rows = await relay.prisma.subscription.findMany({ where: { endpointId: failing.id } });
    expect(rows.map((r) => r.state)).toEqual(['disabled', 'disabled']);
    // one alert for the endpoint, none for its rows one by one, none to itself
    const stored = await relay.prisma.tenantAlert.findMany({ where: { tenantId: acme.tenant.id } });
    expect(stored.map((a) => a.eventType)).toEqual([
      'endpoint.disabled',
      'endpoint.disabled',
      'endpoint.disabled',
    ]);
    expect(stored.map((a) => a.endpointId).sort()).toEqual([null, all.id, asks.id].sort());
    expect(unconcerned.requests.some((r) => bodyOf(r).type === 'endpoint.disabled')).toBe(false);

    // fixed: re-enabling sends what was held, each task's in order, with the same ids
    down.setAnswer({ status: 200 });
    const sentBefore = down.requests.length;
    const enabled = await call(acme, 'PATCH', `/v1/endpoints/${failing.id}`, { state: 'active' });
    expect(enabled.json.state).toBe('active');
    await down.waitFor((r) => r.slice(sentBefore).length >= 4, 15_000);
    const after = down.requests.slice(sentBefore);
    expect(after.every((r) => r.status === 200)).toBe(true);
    expect(after.every((r) => WebhookReceiver.verifies(r, failing.secret))).toBe(true);
    for (const sid of ['BT|ep-down-1', 'BT|ep-down-2']) {
      const ofTask = after.filter((r) => bodyOf(r).data.sid === sid);
      expect(ofTask.map((r) => bodyOf(r).type)).toEqual(['task.queued', 'task.running']);
      const heldOfTask = held.filter((d) => ofTask.some((r) => r.webhookId === d.id));
      expect(ofTask.map((r) => r.webhookId)).toEqual(heldOfTask.map((d) => d.id));
    }
    await waitFor('every held delivery succeeded', async () => {
      const now = await deliveriesOf(failing.id);
      return now.length === 4 && now.every((d) => d.state === 'succeeded');
    });
    const revived = await relay.prisma.endpoint.findUniqueOrThrow({ where: { id: failing.id } });
    expect(revived.lastSuccessAt).not.toBeNull();
  });

  it('disables an endpoint by hand: later events are held, not sent, and go out in order on re-enable', async () => {
    const hook = await receiver();
    let answerQueued = (): void => undefined;
    // the first webhook is still in flight when the endpoint is disabled
    hook.script({ until: new Promise<void>((done) => (answerQueued = done)) });
    const endpoint = await newEndpoint(other, { url: hook.url('/manual') });
    const sid = 'BT|ep-manual';
    await call(other, 'POST', '/v1/tasks', { sid });
    await appendTaskEvent(relay, other.tenant, sid, { type: 'task.queued', state: 'queued' });
    await hook.waitForCount(1);

    const disabled = await call(other, 'PATCH', `/v1/endpoints/${endpoint.id}`, {
      state: 'disabled',
    });
    expect(disabled.status).toBe(200);
    expect(disabled.json.state).toBe('disabled');
    // the receiver took it after all: it counts as delivered, and is not sent again on re-enable
    answerQueued();
    await waitFor('the in-flight webhook recorded as delivered', async () =>
      (await deliveriesOf(endpoint.id)).some((d) => d.state === 'succeeded'),
    );
    await appendTaskEvent(relay, other.tenant, sid, { type: 'task.running', state: 'running' });
    await appendTaskEvent(relay, other.tenant, sid, {
      type: 'task.succeeded',
      state: 'succeeded',
      tracking: 'completed',
    });
    const held = await deliveriesOf(endpoint.id);
    expect(held.map((d) => [d.eventType, d.state])).toEqual([
      ['task.queued', 'succeeded'],
      ['task.running', 'held'],
      ['task.succeeded', 'held'],
    ]);
    expect(hook.requests).toHaveLength(1);

    // a foreign id is unknown; a state that is neither is refused, naming the field
    expect(
      (await call(acme, 'PATCH', `/v1/endpoints/${endpoint.id}`, { state: 'disabled' })).status,
    ).toBe(404);
    const bad = await call(other, 'PATCH', `/v1/endpoints/${endpoint.id}`, { state: 'paused' });
    expect(bad.status).toBe(400);
    expect(String(bad.json.message)).toContain('state must be "active" or "disabled"');

    const enabled = await call(other, 'PATCH', `/v1/endpoints/${endpoint.id}`, { state: 'active' });
    expect(enabled.json.state).toBe('active');
    const got = await hook.waitForCount(3);
    expect(got.map((r) => bodyOf(r).type)).toEqual([
      'task.queued',
      'task.running',
      'task.succeeded',
    ]);
    expect(got.slice(1).map((r) => r.webhookId)).toEqual(held.slice(1).map((d) => d.id));
    expect(got.every((r) => WebhookReceiver.verifies(r, endpoint.secret))).toBe(true);
  });

  it('re-enables an endpoint that the disable sweep disabled while the PATCH was on its way', async () => {
    const target = await receiver();
    const endpoint = await newEndpoint(acme, { url: target.url('/raced') });
    let patched: Promise<{ status: number; json: Json }> | undefined;
    // a sweep's transaction, caught between its disable and its commit
    await relay.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`UPDATE endpoints SET state = 'disabled' WHERE id = ${endpoint.id}`;
        patched = call(acme, 'PATCH', `/v1/endpoints/${endpoint.id}`, { state: 'active' });
        await waitFor('the PATCH waiting for the endpoint row', async () => {
          const [row] = await relay.prisma.$queryRaw<{ n: number }[]>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE '%FROM endpoints WHERE id%FOR UPDATE%'`;
          return row.n > 0;
        });
      },
      { timeout: 20_000 },
    );
    const answer = await patched!;
    expect(answer.status).toBe(200);
    expect(answer.json.state).toBe('active');
    const row = await relay.prisma.endpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(row.state).toBe('active');
  });

  it('disables a subscription by hand: what it had to send is held and goes out first on re-enable; a canceled one answers 409', async () => {
    const hook = await receiver({ answer: { status: 503 } });
    const sid = 'BT|sub-manual';
    const created = await call(other, 'POST', '/v1/subscriptions', {
      sid,
      callbackUrl: hook.url('/sub'),
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await appendTaskEvent(relay, other.tenant, sid, { type: 'task.queued', state: 'queued' });
    await hook.waitForCount(1);

    const disabled = await call(other, 'PATCH', `/v1/subscriptions/${id}`, { state: 'disabled' });
    expect(disabled.status).toBe(200);
    expect(disabled.json.state).toBe('disabled');
    const held = await relay.prisma.delivery.findMany({ where: { subscriptionId: id } });
    expect(held.map((d) => [d.eventType, d.state])).toEqual([['task.queued', 'held']]);
    await appendTaskEvent(relay, other.tenant, sid, { type: 'task.running', state: 'running' });

    // as after a 410: the held delivery first, then the task's current state
    hook.setAnswer({ status: 200 });
    const enabled = await call(other, 'PATCH', `/v1/subscriptions/${id}`, { state: 'active' });
    expect(enabled.json.state).toBe('active');
    await hook.waitFor((r) => r.filter((x) => x.status === 200).length >= 2, 10_000);
    const sent = hook.requests.filter((x) => x.status === 200);
    expect(sent.map((r) => [r.webhookId === held[0].id, bodyOf(r).type])).toEqual([
      [true, 'task.queued'],
      [false, 'task.running'],
    ]);
    expect(sent.every((r) => WebhookReceiver.verifies(r, other.webhookSecret))).toBe(true);

    expect((await call(other, 'DELETE', `/v1/subscriptions/${id}`)).status).toBeLessThan(300);
    const refused = await call(other, 'PATCH', `/v1/subscriptions/${id}`, { state: 'disabled' });
    expect(refused.status).toBe(409);
  });
});
