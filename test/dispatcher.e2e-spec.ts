import { Test } from '@nestjs/testing';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { AppModule } from '../src/app.module';
import { configureApp } from '../src/app.setup';
import { ConfigService } from '../src/config/config.service';
import { parseEnv } from '../src/config/env';
import { PrismaService } from '../src/database/prisma.service';
import { DispatcherService } from '../src/dispatcher/dispatcher.service';
import { LOG_DESTINATION } from '../src/logging/logging.module';
import { TenantSecrets } from '../src/tenants/tenant-secrets.service';
import { WebhookSender } from '../src/dispatcher/webhook-sender';
import {
  createTestApp,
  LogCapture,
  TEST_ADMIN_TOKEN,
  TEST_ENCRYPTION_KEY,
  TestApp,
} from './support/app';
import { createTestDatabase } from './support/database';
import {
  appendTaskEvent,
  createSubscription,
  createSubscriptions,
  createTenant,
  ObservedChange,
  TenantFixture,
} from './support/factories';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/receiver';

const FAST = {
  DISPATCHER_ENABLED: 'true',
  WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms',
  WEBHOOK_TIMEOUT_MS: '2000',
};

interface Setup {
  relay: TestApp;
  fixture: TenantFixture;
  receiver: WebhookReceiver;
}

describe('dispatcher', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(env: Record<string, string> = {}, receiverSecrets = true): Promise<Setup> {
    const relay = await createTestApp(await createTestDatabase(), { ...FAST, ...env });
    cleanups.push(() => relay.close());
    const fixture = await createTenant(relay);
    const receiver = await WebhookReceiver.start(
      receiverSecrets ? { secrets: [fixture.webhookSecret] } : {},
    );
    cleanups.push(() => receiver.close());
    return { relay, fixture, receiver };
  }

  async function subscribe(s: Setup, sid: string, path: string, extra: { events?: string[] } = {}) {
    return createSubscription(s.relay, s.fixture.tenant, {
      sid,
      callbackUrl: s.receiver.url(path),
      metadata: { order: sid },
      ...extra,
    });
  }

  let sentinels = 0;

  /**
   * Queues a delivery to a subscription of its own and waits until it
   * arrives: the dispatcher has since claimed everything due before it, so a
   * delivery that has still not been sent was not going to be.
   */
  async function dispatcherCaughtUp(s: Setup): Promise<void> {
    const path = `/sentinel-${++sentinels}`;
    const sub = await subscribe(s, `BT|sentinel${path}`, path);
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await waitFor(`the delivery to ${path}`, () => s.receiver.on(path).length > 0);
  }

  async function redeliver(s: Setup, deliveryId: string): Promise<number> {
    const answer = await fetch(`${s.relay.url}/v1/deliveries/${deliveryId}/redeliver`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.fixture.apiKey}` },
    });
    return answer.status;
  }

  const deliveriesOf = (relay: TestApp, subscriptionId: string) =>
    relay.prisma.delivery.findMany({
      where: { subscriptionId },
      orderBy: { sequence: 'asc' },
      include: { attemptLog: { orderBy: { id: 'asc' } } },
    });

  it('sends every webhook of a full lifecycle, verifiable with standardwebhooks and svix, in order', async () => {
    const s = await setup();
    const sub = await subscribe(s, 'BT|life-1', '/life');
    const steps: ObservedChange[] = [
      { type: 'task.queued', state: 'queued', queueNum: 3 },
      { type: 'task.progress', state: 'queued', queueNum: 1 },
      { type: 'task.running', state: 'running', progress: 0.2 },
      { type: 'task.progress', state: 'running', progress: 0.7 },
      {
        type: 'task.succeeded',
        state: 'succeeded',
        progress: 1,
        outputResult: ['cos://out.png'],
        tracking: 'completed',
      },
    ];
    for (const [i, step] of steps.entries()) {
      await appendTaskEvent(s.relay, sub.taskId, step);
      await s.receiver.waitForCount(i + 1);
    }
    const requests = s.receiver.requests;
    expect(requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // the 2xx is recorded just after the receiver answered
    const deliveries = await waitFor('every delivery to succeed', async () => {
      const rows = await deliveriesOf(s.relay, sub.id);
      return rows.every((d) => d.state === 'succeeded') && rows;
    });
    expect(deliveries).toHaveLength(5);

    const standard = new StandardWebhook(s.fixture.webhookSecret);
    const svix = new SvixWebhook(s.fixture.webhookSecret);
    requests.forEach((request, i) => {
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.webhookId).toBe(deliveries[i].id);
      expect(request.webhookId).toMatch(/^msg_/);
      expect(request.body).toBe(deliveries[i].payload);
      expect(
        Math.abs(Number(request.headers['webhook-timestamp']) - request.at / 1000),
      ).toBeLessThan(5);
      const viaStandard = standard.verify(request.body, request.headers) as {
        type: string;
        data: { sequence: number; sid: string; subscriptionId: string; metadata: unknown };
      };
      const viaSvix = svix.verify(request.body, request.headers);
      expect(viaSvix).toEqual(viaStandard);
      expect(viaStandard.type).toBe(steps[i].type);
      expect(viaStandard.data).toMatchObject({
        sequence: i + 1,
        sid: 'BT|life-1',
        subscriptionId: sub.id,
        metadata: { order: 'BT|life-1' },
      });
    });
    // a tampered body is refused by both libraries
    const last = requests[4];
    expect(() => standard.verify(last.body.replace('succeeded', 'failed'), last.headers)).toThrow();
    expect(() => svix.verify(last.body.replace('succeeded', 'failed'), last.headers)).toThrow();

    // terminal task, nothing pending: the subscription is done
    await waitFor('the subscription to be done', async () => {
      const row = await s.relay.prisma.subscription.findUniqueOrThrow({ where: { id: sub.id } });
      return row.state === 'done';
    });
  });

  it('retries 500, 500, 200 under one webhook-id, logs all three attempts, and redelivers the same id', async () => {
    const s = await setup();
    s.receiver.script({ status: 500, body: 'boom' }, { status: 500 }, { status: 200 });
    const sub = await subscribe(s, 'BT|retry', '/retry');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.running', state: 'running' });
    await s.receiver.waitForCount(3);
    const [delivery] = await waitFor('the retried delivery to succeed', async () => {
      const rows = await deliveriesOf(s.relay, sub.id);
      return rows[0]?.state === 'succeeded' && rows;
    });
    const ids = new Set(s.receiver.requests.map((r) => r.webhookId));
    expect([...ids]).toEqual([delivery.id]);
    expect(delivery.attempts).toBe(3);
    expect(delivery.attemptLog.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    expect(delivery.attemptLog[0].responseBody).toBe('boom');
    expect(delivery.attemptLog.every((a) => a.durationMs >= 0 && a.error === null)).toBe(true);
    // the scheduled waits (~200 ms ±20%) lie between the attempts
    const [a, b, c] = s.receiver.requests.map((r) => r.at);
    expect(b - a).toBeGreaterThanOrEqual(150);
    expect(c - b).toBeGreaterThanOrEqual(150);

    expect(await redeliver(s, delivery.id)).toBe(202);
    await s.receiver.waitForCount(4);
    expect(s.receiver.requests[3].webhookId).toBe(delivery.id);
    expect(s.receiver.requests[3].body).toBe(s.receiver.requests[0].body);
    await waitFor('the redelivery to be recorded', async () => {
      const rows = await deliveriesOf(s.relay, sub.id);
      return rows[0].state === 'succeeded' && rows[0].attemptLog.length === 4;
    });
  });

  it('gives up after the last retry: the delivery is failed and later events wait behind it no more', async () => {
    const s = await setup();
    s.receiver.setAnswer({ status: 502 });
    const sub = await subscribe(s, 'BT|down', '/down');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(4);
    await waitFor('the delivery to fail after 4 attempts', async () => {
      const [row] = await deliveriesOf(s.relay, sub.id);
      return row.state === 'failed' && row.attempts === 4;
    });
    await dispatcherCaughtUp(s);
    expect(s.receiver.on('/down')).toHaveLength(4);
    // a failed delivery is no longer pending, so the next event is not held behind it
    s.receiver.setAnswer({});
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.running', state: 'running' });
    await waitFor('the next event', () => s.receiver.on('/down').length >= 5);
    expect((s.receiver.on('/down')[4].json as { type: string }).type).toBe('task.running');
  });

  it('disables the subscription on 410 Gone and sends nothing more', async () => {
    const s = await setup();
    s.receiver.setAnswer({ status: 410 });
    const sub = await subscribe(s, 'BT|gone', '/gone');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(1);
    await waitFor('the subscription to be disabled', async () => {
      const row = await s.relay.prisma.subscription.findUniqueOrThrow({ where: { id: sub.id } });
      return row.state === 'disabled';
    });
    // an event queued behind it, and one after, are never sent
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.running', state: 'running' });
    await dispatcherCaughtUp(s);
    expect(s.receiver.on('/gone')).toHaveLength(1);
    const rows = await deliveriesOf(s.relay, sub.id);
    // kept, held, for a re-enable or a recovery
    expect(rows.map((d) => d.state)).toEqual(['held']);
    expect(rows[0].attemptLog.map((a) => a.statusCode)).toEqual([410]);

    // asked by hand, it is tried once more, and a second 410 leaves it disabled
    expect(await redeliver(s, rows[0].id)).toBe(202);
    await waitFor('the redelivery', () => s.receiver.on('/gone').length >= 2);
    expect(s.receiver.on('/gone')[1].webhookId).toBe(rows[0].id);
    await waitFor('the second failed attempt to be recorded', async () => {
      const [row] = await deliveriesOf(s.relay, sub.id);
      return row.state === 'held' && row.attemptLog.length === 2;
    });
    const after = await s.relay.prisma.subscription.findUniqueOrThrow({ where: { id: sub.id } });
    expect(after.state).toBe('disabled');
  });

  it('holds pending deliveries of a subscription that answered 410', async () => {
    const s = await setup();
    s.receiver.script({ status: 410, delayMs: 300 });
    const sub = await subscribe(s, 'BT|gone-2', '/gone2');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(1);
    // queued while the first is in flight
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.running', state: 'running' });
    await waitFor('the queued delivery to be held', async () => {
      const rows = await deliveriesOf(s.relay, sub.id);
      return rows.map((d) => d.state).join() === 'held,held';
    });
    await dispatcherCaughtUp(s);
    expect(s.receiver.on('/gone2')).toHaveLength(1);
  });

  it('honours Retry-After on 429 and 503', async () => {
    const s = await setup();
    s.receiver.script(
      { status: 429, retryAfter: 1 },
      { status: 503, retryAfter: 2 },
      { status: 200 },
    );
    const sub = await subscribe(s, 'BT|slow-down', '/slow');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(3, 8000);
    const [a, b, c] = s.receiver.requests.map((r) => r.at);
    // the schedule alone would retry after ~200 ms; the upper bounds leave room
    // for a loaded machine and still refuse a wait far beyond what was asked
    expect(b - a).toBeGreaterThanOrEqual(950);
    expect(b - a).toBeLessThan(3500);
    expect(c - b).toBeGreaterThanOrEqual(1950);
    expect(c - b).toBeLessThan(5000);
    expect(new Set(s.receiver.requests.map((r) => r.webhookId)).size).toBe(1);
  });

  it('catches a receiver up after an outage: state changes in sequence order, stale progress superseded', async () => {
    const s = await setup({ WEBHOOK_RETRY_SCHEDULE: Array(30).fill('150ms').join(',') });
    const sub = await subscribe(s, 'BT|outage', '/outage');
    await s.receiver.stop();
    await appendTaskEvent(s.relay, sub.taskId, {
      type: 'task.queued',
      state: 'queued',
      queueNum: 5,
    });
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.progress', queueNum: 2 });
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.running', state: 'running' });
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.progress', progress: 0.5 });
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.progress', progress: 0.9 });
    await appendTaskEvent(s.relay, sub.taskId, {
      type: 'task.succeeded',
      state: 'succeeded',
      progress: 1,
      tracking: 'completed',
    });
    // the first delivery keeps failing meanwhile
    await waitFor('a second attempt of the first delivery', async () => {
      const rows = await deliveriesOf(s.relay, sub.id);
      return rows[0].attempts >= 2;
    });
    await s.receiver.restart();
    await s.receiver.waitForCount(3);
    // every delivery settled: none is left to send
    await waitFor('every delivery to settle', async () =>
      (await deliveriesOf(s.relay, sub.id)).every((d) => d.state !== 'pending'),
    );
    const types = s.receiver.requests.map((r) => (r.json as { type: string }).type);
    expect(types).toEqual(['task.queued', 'task.running', 'task.succeeded']);
    const sequences = s.receiver.requests.map(
      (r) => (r.json as { data: { sequence: number } }).data.sequence,
    );
    expect(sequences).toEqual([1, 3, 6]);
    const rows = await deliveriesOf(s.relay, sub.id);
    expect(rows.map((d) => `${d.sequence}:${d.state}`)).toEqual([
      '1:succeeded',
      '2:superseded',
      '3:succeeded',
      '4:superseded',
      '5:superseded',
      '6:succeeded',
    ]);
  });

  it('supersedes a progress delivery that failed while a newer event queued behind it', async () => {
    const s = await setup();
    s.receiver.script({ status: 500, delayMs: 400 });
    const sub = await subscribe(s, 'BT|overtaken', '/overtaken');
    await appendTaskEvent(s.relay, sub.taskId, {
      type: 'task.progress',
      state: 'queued',
      queueNum: 4,
    });
    await s.receiver.waitForCount(1);
    // in flight, so the outbox leaves it alone
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.running', state: 'running' });
    await s.receiver.waitForCount(2);
    await waitFor('both deliveries to settle', async () =>
      (await deliveriesOf(s.relay, sub.id)).every((d) => d.state !== 'pending'),
    );
    expect(s.receiver.requests.map((r) => (r.json as { type: string }).type)).toEqual([
      'task.progress',
      'task.running',
    ]);
    const rows = await deliveriesOf(s.relay, sub.id);
    expect(rows.map((d) => d.state)).toEqual(['superseded', 'succeeded']);
    expect(rows[0].attemptLog.map((a) => a.statusCode)).toEqual([500]);
  });

  it('does not follow a redirect', async () => {
    const s = await setup();
    const elsewhere = await WebhookReceiver.start();
    cleanups.push(() => elsewhere.close());
    s.receiver.setAnswer({ redirectTo: elsewhere.url('/stolen') });
    const sub = await subscribe(s, 'BT|redirect', '/redirect');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(2);
    // a followed redirect would arrive within the attempt, before it is recorded
    await waitFor('two recorded attempts', async () => {
      const [row] = await deliveriesOf(s.relay, sub.id);
      return row.attemptLog.length >= 2;
    });
    expect(elsewhere.requests).toHaveLength(0);
    const [row] = await deliveriesOf(s.relay, sub.id);
    expect(row.state).toBe('pending');
    expect(row.attemptLog[0].statusCode).toBe(302);
  });

  it('signs with both the old and the new secret during a rotation', async () => {
    const s = await setup({}, false);
    const sub = await subscribe(s, 'BT|rotate', '/rotate');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(1);
    expect(s.receiver.requests[0].headers['webhook-signature'].split(' ')).toHaveLength(1);

    const newSecret = await s.relay.app.get(TenantSecrets).rotateWebhookSecret(s.fixture.tenant.id);
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.running', state: 'running' });
    await s.receiver.waitForCount(2);
    const rotated = s.receiver.requests[1];
    expect(rotated.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(WebhookReceiver.verifies(rotated, s.fixture.webhookSecret)).toBe(true);
    expect(WebhookReceiver.verifies(rotated, newSecret)).toBe(true);
    expect(() =>
      new SvixWebhook(s.fixture.webhookSecret).verify(rotated.body, rotated.headers),
    ).not.toThrow();
    expect(() => new SvixWebhook(newSecret).verify(rotated.body, rotated.headers)).not.toThrow();
    // the first one, signed before the rotation, does not verify with the new secret
    expect(WebhookReceiver.verifies(s.receiver.requests[0], newSecret)).toBe(false);
  });

  it('keeps a slow receiver within the per-host cap while other hosts are served', async () => {
    const s = await setup({ DISPATCHER_PER_HOST_CONCURRENCY: '2', WEBHOOK_TIMEOUT_MS: '5000' });
    const slow = s.receiver;
    slow.setAnswer({ delayMs: 1500 });
    const fast = await WebhookReceiver.start();
    cleanups.push(() => fast.close());
    const slowSubs = [];
    for (let i = 0; i < 6; i++) slowSubs.push(await subscribe(s, `BT|slow-${i}`, `/slow-${i}`));
    const fastSubs = [];
    for (let i = 0; i < 6; i++) {
      fastSubs.push(
        await createSubscription(s.relay, s.fixture.tenant, {
          sid: `BT|fast-${i}`,
          callbackUrl: fast.url(`/fast-${i}`),
        }),
      );
    }
    const started = Date.now();
    for (const sub of slowSubs)
      await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    for (const sub of fastSubs)
      await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await fast.waitForCount(6, 5000);
    // behind the slow host (2 at a time, 1.5 s each) the fast one would need 4.5 s
    expect(Date.now() - started).toBeLessThan(3000);
    await slow.waitForCount(6, 12000);
    expect(slow.maxConcurrent).toBe(2);
  });

  it('sends fresh deliveries at once despite a backlog of due retries, to another host and to the same one', async () => {
    // 1000 deliveries to a receiver that answers 500, already attempted and
    // overdue, written before any dispatcher runs: many more than one claim
    // looks at (4 × DISPATCHER_CONCURRENCY), so working through them takes
    // the dispatcher seconds
    const BACKLOG = 1000;
    const s = await setup({ DISPATCHER_ENABLED: 'false' });
    const busy = s.receiver;
    busy.setAnswer({ status: 500 });
    const healthy = await WebhookReceiver.start();
    cleanups.push(() => healthy.close());
    const [{ taskId }] = await createSubscriptions(
      s.relay,
      s.fixture.tenant,
      Array.from({ length: BACKLOG }, (_, i) => ({
        sid: 'BT|backlog',
        callbackUrl: busy.url(`/backlog-${i}`),
      })),
    );
    const appended = await appendTaskEvent(s.relay, taskId, {
      type: 'task.queued',
      state: 'queued',
    });
    expect(appended.deliveries).toBe(BACKLOG);
    // as a dispatcher leaves them after one failed attempt each: their lanes wait on a retry
    await s.relay.prisma.$executeRaw`
      UPDATE deliveries SET attempts = 1, next_attempt_at = now() - interval '1 minute',
        first_failed_at = now() - interval '1 minute'`;
    await s.relay.prisma.$executeRaw`
      UPDATE delivery_lanes SET retrying = true, due_at = now() - interval '1 minute'`;
    const toHealthy = await createSubscription(s.relay, s.fixture.tenant, {
      sid: 'BT|fresh-healthy',
      callbackUrl: healthy.url('/fresh'),
    });
    const toBusy = await subscribe(s, 'BT|fresh-busy', '/fresh-busy');

    const dispatcher = await createTestApp(s.relay.config.env.databaseUrl as string, {
      ...FAST,
      WEBHOOK_RETRY_SCHEDULE: Array(20).fill('200ms').join(','),
    });
    cleanups.push(() => dispatcher.close());
    await busy.waitForCount(20);

    const enqueued = Date.now();
    await appendTaskEvent(s.relay, toHealthy.taskId, { type: 'task.queued', state: 'queued' });
    await appendTaskEvent(s.relay, toBusy.taskId, { type: 'task.queued', state: 'queued' });
    // a starved delivery would wait for most of the backlog: measure, don't time out
    const arrival = (receiver: WebhookReceiver, path: string): Promise<number> =>
      receiver
        .waitFor((requests) => requests.some((r) => r.path === path), 8000)
        .then((requests) => requests.find((r) => r.path === path)!.at - enqueued)
        .catch(() => Infinity);
    const [healthyAfterMs, busyAfterMs] = await Promise.all([
      arrival(healthy, '/fresh'),
      arrival(busy, '/fresh-busy'),
    ]);
    const backlogSentBefore = (afterMs: number): number =>
      busy.requests.filter(
        (r) => r.path.startsWith('/backlog-') && r.at >= enqueued && r.at <= enqueued + afterMs,
      ).length;
    const backlogRetried = new Set(
      busy.requests.filter((r) => r.path.startsWith('/backlog-')).map((r) => r.path),
    ).size;

    // starved, they waited over 12 s; the bound leaves room for a loaded machine
    expect(healthyAfterMs).toBeLessThan(4000);
    expect(busyAfterMs).toBeLessThan(4000);
    // neither waited its turn behind the backlog: a handful of retries went
    // out meanwhile (the per-host cap is 8), while most of the backlog was
    // still waiting for its second attempt when both had arrived
    expect(backlogSentBefore(healthyAfterMs)).toBeLessThan(BACKLOG / 10);
    expect(backlogSentBefore(busyAfterMs)).toBeLessThan(BACKLOG / 10);
    expect(backlogRetried).toBeLessThan(BACKLOG / 2);
    expect(busy.on('/fresh-busy')[0].status).toBe(500);
  });

  it('stops at shutdown only after the request in flight has been answered and recorded', async () => {
    const s = await setup();
    s.receiver.setAnswer({ delayMs: 500 });
    const sub = await subscribe(s, 'BT|shutdown', '/shutdown');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(1);
    const url = s.relay.config.env.databaseUrl as string;
    await s.relay.close();
    // the app's pool is gone; read with a fresh relay that sends nothing
    const reader = await createTestApp(url);
    cleanups.push(() => reader.close());
    const [row] = await reader.prisma.delivery.findMany({ where: { subscriptionId: sub.id } });
    expect(row.state).toBe('succeeded');
    expect(await reader.prisma.deliveryLane.count({ where: { lockedBy: { not: null } } })).toBe(0);
  });

  it('runs no loop at all with DISPATCHER_ENABLED=false', async () => {
    const s = await setup({ DISPATCHER_ENABLED: 'false' });
    const sub = await subscribe(s, 'BT|off', '/off');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    expect(s.receiver.requests).toHaveLength(0);
    expect(s.relay.app.get(DispatcherService).inFlightCount).toBe(0);
    // the same work is there for a dispatcher elsewhere, and only then sent
    const startedAt = Date.now();
    s.relay.app.get(DispatcherService).start();
    const [request] = await s.receiver.waitForCount(1);
    expect(request.at).toBeGreaterThanOrEqual(startedAt);
  });

  it('exposes delivery metrics', async () => {
    const s = await setup();
    s.receiver.script({ status: 500 }, { status: 200 });
    const sub = await subscribe(s, 'BT|metrics', '/metrics');
    await appendTaskEvent(s.relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await s.receiver.waitForCount(2);
    await waitFor('the delivery to succeed', async () => {
      const [row] = await deliveriesOf(s.relay, sub.id);
      return row.state === 'succeeded';
    });
    // counters move once the attempt is recorded, the pending gauges when next sampled
    const text = await waitFor('the delivery to be counted', async () => {
      const body = await (await fetch(`${s.relay.url}/metrics`)).text();
      return (
        /uxc_relay_webhook_deliveries_total\{outcome="succeeded"\} 1/.test(body) &&
        /uxc_relay_webhook_pending_deliveries 0/.test(body) &&
        body
      );
    });
    expect(text).toMatch(/uxc_relay_webhook_deliveries_total\{outcome="retry"\} 1/);
    expect(text).toMatch(/uxc_relay_webhook_deliveries_total\{outcome="succeeded"\} 1/);
    expect(text).toMatch(/uxc_relay_webhook_attempt_duration_seconds_count\{result="5xx"\} 1/);
    expect(text).toMatch(/uxc_relay_webhook_end_to_end_seconds_count 1/);
    expect(text).toMatch(/uxc_relay_webhook_pending_deliveries 0/);
    expect(text).toMatch(/uxc_relay_webhook_oldest_pending_age_seconds 0/);
  });
});

describe('dispatcher and DNS at connect time', () => {
  it('does not connect to a callback whose DNS answer changed to a refused address', async () => {
    const databaseUrl = await createTestDatabase();
    let answer = ['127.0.0.1'];
    const lookups: string[] = [];
    const sender = new WebhookSender({
      timeoutMs: 2000,
      allowPrivateNetworks: true,
      resolve: async (host) => {
        lookups.push(host);
        return answer;
      },
    });
    const config = new ConfigService(
      parseEnv({
        DATABASE_URL: databaseUrl,
        ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        UXC_SIMULATOR: 'true',
        POLLER_ENABLED: 'false',
        CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
        ...FAST,
        WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms,100ms',
      }),
    );
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(ConfigService)
      .useValue(config)
      .overrideProvider(LOG_DESTINATION)
      .useValue(new LogCapture())
      .overrideProvider(WebhookSender)
      .useValue(sender)
      .compile();
    const app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
    configureApp(app, { shutdownHooks: false });
    await app.init();
    const relay = {
      app,
      url: '',
      prisma: app.get(PrismaService),
      config,
      logs: new LogCapture(),
      close: () => app.close(),
    };
    const receiver = await WebhookReceiver.start();
    try {
      const { tenant } = await createTenant(relay);
      const sub = await createSubscription(relay, tenant, {
        sid: 'BT|rebind',
        callbackUrl: `http://hooks.rebind.test:${receiver.port}/hook`,
      });
      await appendTaskEvent(relay, sub.taskId, { type: 'task.queued', state: 'queued' });
      await receiver.waitForCount(1);
      expect(lookups).toContain('hooks.rebind.test');

      // the DNS now points at the cloud metadata address, and the kept-alive
      // connection is gone, so the next request must connect anew
      answer = ['169.254.169.254'];
      receiver.dropConnections();
      await appendTaskEvent(relay, sub.taskId, { type: 'task.running', state: 'running' });
      const attempts = await waitFor('two attempts of the second delivery', async () => {
        const rows = await relay.prisma.deliveryAttempt.findMany({
          where: { delivery: { subscriptionId: sub.id, sequence: 2 } },
        });
        return rows.length >= 2 && rows;
      });
      expect(receiver.requests).toHaveLength(1);
      expect(attempts[0].statusCode).toBeNull();
      expect(attempts[0].error).toMatch(/169\.254\.169\.254 is refused/);

      // and it is delivered once the DNS answers an allowed address again
      answer = ['127.0.0.1'];
      await receiver.waitForCount(2);
      expect((receiver.requests[1].json as { type: string }).type).toBe('task.running');
    } finally {
      await receiver.close();
      await app.close();
    }
  });
});
