import request from 'supertest';
import { TestApp } from './support/app';
import {
  appendTaskEvent,
  bearer,
  createSubscription,
  createTwoTenantRelay,
  TenantFixture,
} from './support/factories';
import { ReceivedRequest, WebhookReceiver } from './support/receiver';
import { waitFor } from './support/wait';

interface Body {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

const body = (r: ReceivedRequest): Body => r.json as Body;

describe('endpoint health: WEBHOOK_DISABLE_AFTER, alerts, redeliver asNew', () => {
  let relay: TestApp;
  let acme: TenantFixture;
  let other: TenantFixture;
  let hooks: WebhookReceiver;
  let alerts: WebhookReceiver;

  beforeAll(async () => {
    hooks = await WebhookReceiver.start({ answer: { status: 503 } });
    ({ relay, acme, other } = await createTwoTenantRelay({
      DISPATCHER_ENABLED: 'true',
      // many short retries: deliveries stay pending (failing) past the window
      WEBHOOK_RETRY_SCHEDULE: Array.from({ length: 60 }, () => '250ms').join(','),
      WEBHOOK_DISABLE_AFTER: '2s',
    }));
    alerts = await WebhookReceiver.start({ secrets: [acme.webhookSecret] });
  });
  afterAll(async () => {
    await relay.close();
    await hooks.stop();
    await alerts.stop();
  });

  describe('PATCH /v1/tenant', () => {
    it('sets, shows and clears the alertUrl of the calling tenant only', async () => {
      const set = await request(relay.url)
        .patch('/v1/tenant')
        .set(bearer(other))
        .send({ alertUrl: 'http://127.0.0.1:9/other-alerts' })
        .expect(200);
      expect(set.body).toMatchObject({
        id: other.tenant.id,
        name: other.tenant.name,
        alertUrl: 'http://127.0.0.1:9/other-alerts',
      });
      const mine = await request(relay.url).get('/v1/tenant').set(bearer(acme)).expect(200);
      expect(mine.body).toMatchObject({ id: acme.tenant.id, alertUrl: null });

      const cleared = await request(relay.url)
        .patch('/v1/tenant')
        .set(bearer(other))
        .send({ alertUrl: null })
        .expect(200);
      expect(cleared.body.alertUrl).toBeNull();
      const shown = await request(relay.url).get('/v1/tenant').set(bearer(other)).expect(200);
      expect(shown.body.alertUrl).toBeNull();
    });

    it.each([
      ['a number', { alertUrl: 42 }, 'alertUrl must be a string'],
      ['ftp', { alertUrl: 'ftp://hooks.example.com/x' }, 'alertUrl must use http or https'],
      ['not a URL', { alertUrl: 'not a url' }, 'alertUrl must be an absolute http or https URL'],
      [
        'a URL over 2048 characters',
        { alertUrl: `https://example.com/${'a'.repeat(2048)}` },
        'alertUrl must be at most 2048',
      ],
      [
        'the cloud metadata address',
        { alertUrl: 'http://169.254.169.254/latest' },
        'alertUrl points to 169.254.169.254',
      ],
      ['an unknown field', { alertUrl: 'https://example.com', extra: 1 }, 'extra'],
    ])('refuses %s with a 400 naming the field', async (_label, input, message) => {
      const answer = await request(relay.url)
        .patch('/v1/tenant')
        .set(bearer(acme))
        .send(input)
        .expect(400);
      expect(answer.body.message).toContain(message);
    });

    it('needs an API key', async () => {
      await request(relay.url).patch('/v1/tenant').send({ alertUrl: null }).expect(401);
      await request(relay.url).get('/v1/tenant').expect(401);
    });
  });

  it('disables a subscription failing without a success, holds its deliveries, alerts the tenant, and sends them in order on re-enable', async () => {
    await request(relay.url)
      .patch('/v1/tenant')
      .set(bearer(acme))
      .send({ alertUrl: alerts.url('/alerts') })
      .expect(200);
    const sid = 'BT|health-disabled';
    const subscription = await createSubscription(relay, acme.tenant, {
      sid,
      callbackUrl: hooks.url('/down'),
    });
    await appendTaskEvent(relay, acme.tenant, sid, { type: 'task.queued', state: 'queued' });
    await appendTaskEvent(relay, acme.tenant, sid, { type: 'task.running', state: 'running' });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.succeeded',
      state: 'succeeded',
      tracking: 'completed',
    });

    // the receiver keeps answering 503: after 2 s without a success the
    // subscription is disabled and the tenant's alertUrl hears of it
    const [alert] = await alerts.waitFor((r) => r.some((x) => x.path === '/alerts'), 20_000);
    expect(alert.status).toBe(200); // the receiver verified the signature
    const verified = WebhookReceiver.verify(alert, acme.webhookSecret) as Body;
    expect(verified.type).toBe('subscription.disabled');
    expect(alert.webhookId).toMatch(/^msg_/);
    expect(verified.data).toMatchObject({
      subscriptionId: subscription.id,
      sid,
      callbackUrl: hooks.url('/down'),
      heldDeliveries: 3,
    });
    expect(verified.data.reason).toContain('WEBHOOK_DISABLE_AFTER 2s');
    const failingSince = Date.parse(verified.data.failingSince as string);
    const disabledAt = Date.parse(verified.data.disabledAt as string);
    expect(disabledAt - failingSince).toBeGreaterThanOrEqual(2000);
    expect(verified.timestamp).toBe(verified.data.disabledAt);

    const shown = await request(relay.url)
      .get(`/v1/subscriptions/${subscription.id}`)
      .set(bearer(acme))
      .expect(200);
    expect(shown.body.state).toBe('disabled');
    const held = await request(relay.url)
      .get(`/v1/subscriptions/${subscription.id}/deliveries`)
      .set(bearer(acme))
      .expect(200);
    const deliveries = held.body.items as { id: string; sequence: number; state: string }[];
    expect(deliveries.map((d) => d.state)).toEqual(['held', 'held', 'held']);
    expect(deliveries.every((d) => d.sequence > 0)).toBe(true);
    const heldIds = [...deliveries].sort((a, b) => a.sequence - b.sequence).map((d) => d.id);

    // the receiver is fixed; re-enabling sends what was held, in order, with the same ids
    hooks.setAnswer({ status: 200 });
    const sentBefore = hooks.on('/down').length;
    await request(relay.url)
      .patch(`/v1/subscriptions/${subscription.id}`)
      .set(bearer(acme))
      .send({ state: 'active' })
      .expect(200);
    await hooks.waitFor(
      () => hooks.on('/down').filter((r) => r.status === 200).length >= 3,
      15_000,
    );
    const after = hooks.on('/down').slice(sentBefore);
    expect(after.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(after.map((r) => r.webhookId)).toEqual(heldIds);
    expect(after.map((r) => body(r).type)).toEqual([
      'task.queued',
      'task.running',
      'task.succeeded',
    ]);
    expect(after.every((r) => WebhookReceiver.verifies(r, acme.webhookSecret))).toBe(true);
    await waitFor('every held delivery succeeded', async () => {
      const rows = await relay.prisma.delivery.findMany({
        where: { subscriptionId: subscription.id },
      });
      return rows.length === 3 && rows.every((d) => d.state === 'succeeded');
    });

    // the alert was delivered once and recorded as such
    const stored = await relay.prisma.tenantAlert.findMany({ where: { tenantId: acme.tenant.id } });
    expect(stored.map((a) => [a.id, a.state, a.eventType])).toEqual([
      [alert.webhookId, 'succeeded', 'subscription.disabled'],
    ]);
  });

  it('redeliver asNew sends the event again as a new message with a new webhook-id', async () => {
    hooks.setAnswer({ status: 200 });
    const sid = 'BT|health-as-new';
    const subscription = await createSubscription(relay, acme.tenant, {
      sid,
      callbackUrl: hooks.url('/as-new'),
    });
    await appendTaskEvent(relay, acme.tenant, sid, {
      type: 'task.succeeded',
      state: 'succeeded',
      tracking: 'completed',
      outputResult: ['cos://bucket/out.webp'],
    });
    const [first] = await hooks.waitFor(() => hooks.on('/as-new').length >= 1);
    const original = hooks.on('/as-new')[0];
    expect(first).toBeDefined();
    await waitFor('the first delivery recorded as succeeded', async () => {
      const row = await relay.prisma.delivery.findUnique({ where: { id: original.webhookId } });
      return row?.state === 'succeeded';
    });

    const resent = await request(relay.url)
      .post(`/v1/deliveries/${original.webhookId}/redeliver`)
      .set(bearer(acme))
      .send({ asNew: true })
      .expect(202);
    expect(resent.body.id).toMatch(/^msg_/);
    expect(resent.body.id).not.toBe(original.webhookId);
    expect(resent.body).toMatchObject({
      subscriptionId: subscription.id,
      eventType: 'task.succeeded',
      sequence: body(original).data.sequence,
    });

    await hooks.waitFor(() => hooks.on('/as-new').length >= 2);
    const copy = hooks.on('/as-new')[1];
    expect(copy.webhookId).toBe(resent.body.id);
    expect(WebhookReceiver.verifies(copy, acme.webhookSecret)).toBe(true);
    expect(body(copy)).toEqual(body(original));
    // the original is left as it ended
    const originalRow = await relay.prisma.delivery.findUniqueOrThrow({
      where: { id: original.webhookId },
    });
    expect(originalRow.state).toBe('succeeded');

    // without asNew: one more attempt of the same message
    await request(relay.url)
      .post(`/v1/deliveries/${original.webhookId}/redeliver`)
      .set(bearer(acme))
      .send({})
      .expect(202)
      .expect((r) => expect(r.body.id).toBe(original.webhookId));
    await hooks.waitFor(() => hooks.on('/as-new').length >= 3);
    expect(hooks.on('/as-new')[2].webhookId).toBe(original.webhookId);

    // asNew must be a boolean; another tenant's delivery is unknown
    const bad = await request(relay.url)
      .post(`/v1/deliveries/${original.webhookId}/redeliver`)
      .set(bearer(acme))
      .send({ asNew: 'yes' })
      .expect(400);
    expect(bad.body.message).toContain('asNew');
    await request(relay.url)
      .post(`/v1/deliveries/${original.webhookId}/redeliver`)
      .set(bearer(other))
      .send({ asNew: true })
      .expect(404);
  });
});
