import { DispatcherService } from '../src/dispatcher/dispatcher.service';
import { createTestApp, TEST_ENCRYPTION_KEY, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { appendTaskEvent, createSubscription, createTenant } from './support/factories';
import { RelayProcess, spawnRelay, waitForOk } from './support/relay-process';
import { ReceivedRequest, WebhookReceiver } from './support/receiver';
import { waitFor } from './support/wait';

/** The (subscription, sequence) pairs a receiver got, in arrival order per subscription. */
function sequencesBySubscription(requests: ReceivedRequest[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const request of requests) {
    const data = (request.json as { data: { subscriptionId: string; sequence: number } }).data;
    const list = seen.get(data.subscriptionId) ?? [];
    list.push(data.sequence);
    seen.set(data.subscriptionId, list);
  }
  return seen;
}

async function metric(url: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

describe('delivery pipeline', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function relayOn(databaseUrl: string, env: Record<string, string>): Promise<TestApp> {
    const relay = await createTestApp(databaseUrl, env);
    cleanups.push(() => relay.close());
    return relay;
  }

  it('drains a burst to one host with every event once, in sequence order per subscription', async () => {
    const TASKS = 60;
    const PER_TASK = 5;
    const databaseUrl = await createTestDatabase();
    const writer = await relayOn(databaseUrl, { DISPATCHER_ENABLED: 'false' });
    const { tenant } = await createTenant(writer);
    // one business party, one endpoint: every subscription on one host
    const receiver = await WebhookReceiver.start({
      answer: () => ({ delayMs: Math.floor(Math.random() * 5) }),
    });
    cleanups.push(() => receiver.close());
    const subscriptions = [];
    for (let t = 0; t < TASKS; t++) {
      for (let s = 0; s < PER_TASK; s++) {
        subscriptions.push(
          await createSubscription(writer, tenant, {
            sid: `BT|burst-${t}`,
            callbackUrl: receiver.url(`/party?copy=${s}`),
          }),
        );
      }
    }
    const taskIds = [...new Set(subscriptions.map((sub) => sub.taskId))];
    // state changes only: none of them may be superseded or dropped
    const steps = [
      { type: 'task.queued', state: 'queued' },
      { type: 'task.running', state: 'running' },
      { type: 'task.succeeded', state: 'succeeded', tracking: 'completed' },
    ] as const;
    const sender = await relayOn(databaseUrl, {
      DISPATCHER_ENABLED: 'true',
      DISPATCHER_PER_HOST_CONCURRENCY: '4',
    });
    for (const step of steps) {
      await Promise.all(taskIds.map((taskId) => appendTaskEvent(writer, taskId, { ...step })));
    }
    const total = subscriptions.length * steps.length;
    await receiver.waitForCount(total, 30_000);

    const bySubscription = sequencesBySubscription(receiver.requests);
    expect(bySubscription.size).toBe(subscriptions.length);
    for (const sequences of bySubscription.values()) expect(sequences).toEqual([1, 2, 3]);
    expect(receiver.requests).toHaveLength(total);
    // one host with fast answers: the per-host limit grew past its start
    expect(
      sender.app.get(DispatcherService).hostLimit(`127.0.0.1:${receiver.port}`),
    ).toBeGreaterThan(4);
  });

  it('lets later events overtake one that keeps failing past WEBHOOK_ORDER_HOLD, and keeps retrying it', async () => {
    const databaseUrl = await createTestDatabase();
    const relay = await relayOn(databaseUrl, {
      DISPATCHER_ENABLED: 'true',
      WEBHOOK_ORDER_HOLD: '1s',
      WEBHOOK_RETRY_SCHEDULE: Array(30).fill('300ms').join(','),
    });
    const { tenant } = await createTenant(relay);
    // a receiver that refuses one event type and takes the rest
    const receiver = await WebhookReceiver.start({
      answer: (request) =>
        (request.json as { type: string }).type === 'task.queued' ? { status: 400 } : {},
    });
    cleanups.push(() => receiver.close());
    const sub = await createSubscription(relay, tenant, {
      sid: 'BT|hold',
      callbackUrl: receiver.url('/hold'),
    });
    await appendTaskEvent(relay, sub.taskId, { type: 'task.queued', state: 'queued' });
    await receiver.waitForCount(1);
    const firstRefusal = receiver.requests[0].at;
    await appendTaskEvent(relay, sub.taskId, { type: 'task.running', state: 'running' });
    await appendTaskEvent(relay, sub.taskId, {
      type: 'task.succeeded',
      state: 'succeeded',
      tracking: 'completed',
    });
    const typeOf = (r: ReceivedRequest) => (r.json as { type: string }).type;
    await receiver.waitFor(
      (requests) => requests.some((r) => typeOf(r) === 'task.succeeded'),
      10_000,
    );
    const succeeded = receiver.requests.find(
      (r) => typeOf(r) === 'task.succeeded',
    ) as ReceivedRequest;
    const running = receiver.requests.find((r) => typeOf(r) === 'task.running') as ReceivedRequest;
    // held while the refusal was younger than the hold (counted from the first
    // failed attempt's start), then overtaken, in order
    const [queued] = await relay.prisma.delivery.findMany({
      where: { subscriptionId: sub.id, eventType: 'task.queued' },
    });
    const holdStart = (queued.firstFailedAt as Date).getTime();
    expect(holdStart).toBeLessThanOrEqual(firstRefusal);
    expect(running.at - holdStart).toBeGreaterThanOrEqual(1000);
    expect(succeeded.at).toBeGreaterThanOrEqual(running.at);
    // and not much later: the hold, then one claim (2 s of room for a loaded machine)
    expect(succeeded.at - holdStart).toBeLessThan(1000 + 2000);

    // the refused one keeps its own retry schedule after being overtaken
    const refusalsAtFinish = receiver.requests.filter((r) => typeOf(r) === 'task.queued').length;
    await receiver.waitFor(
      (requests) =>
        requests.filter((r) => typeOf(r) === 'task.queued').length >= refusalsAtFinish + 2,
      10_000,
    );
    const rowsOf = () =>
      relay.prisma.delivery.findMany({
        where: { subscriptionId: sub.id },
        orderBy: { sequence: 'asc' },
        include: { attemptLog: true },
      });
    await waitFor('the refusals to be recorded', async () => {
      const [queued] = await rowsOf();
      return queued.attemptLog.length >= refusalsAtFinish + 2;
    });
    const rows = await rowsOf();
    expect(rows.map((row) => [row.eventType, row.state])).toEqual([
      ['task.queued', 'pending'],
      ['task.running', 'succeeded'],
      ['task.succeeded', 'succeeded'],
    ]);
    expect(rows[0].detached).toBe(true);
    expect(rows[0].attemptLog.length).toBeGreaterThanOrEqual(refusalsAtFinish + 2);
    expect(rows[0].attemptLog.every((attempt) => attempt.statusCode === 400)).toBe(true);
  });

  it('wakes a dispatcher in another process through LISTEN/NOTIFY', async () => {
    const databaseUrl = await createTestDatabase();
    const writer = await relayOn(databaseUrl, { DISPATCHER_ENABLED: 'false' });
    const { tenant } = await createTenant(writer);
    const receiver = await WebhookReceiver.start();
    cleanups.push(() => receiver.close());
    const child: RelayProcess = await spawnRelay({
      DATABASE_URL: databaseUrl,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_BASE_URL: 'http://127.0.0.1:9',
      UXC_SIMULATOR: 'false',
      POLLER_ENABLED: 'false',
      DISPATCHER_ENABLED: 'true',
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    cleanups.push(async () => {
      child.child.kill('SIGTERM');
      await child.exited;
    });
    await waitForOk(`${child.url}/health/ready`, 30_000, child);
    const notified = /uxc_relay_dispatcher_wakeups_total\{source="notify"\} (\d+)/;
    await waitFor('the child to listen', async () => {
      // its first look for work has run once it has counted anything at all
      const text = await (await fetch(`${child.url}/metrics`)).text();
      return text.includes('uxc_relay_webhook_in_flight');
    });
    const sub = await createSubscription(writer, tenant, {
      sid: 'BT|notify',
      callbackUrl: receiver.url('/notify'),
    });
    // the first may be found by the periodic look, if it came before LISTEN was up
    for (let i = 0; i < 4; i++) {
      await appendTaskEvent(writer, sub.taskId, {
        type: 'task.progress',
        state: 'queued',
        queueNum: 10 - i,
      });
      await receiver.waitForCount(i + 1, 10_000);
    }
    expect(await metric(child.url, notified)).toBeGreaterThanOrEqual(3);
  });
});
