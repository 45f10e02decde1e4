import { createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import {
  appendTaskEvent,
  createSubscription,
  createTenant,
  ObservedChange,
} from './support/factories';
import { WebhookReceiver } from './support/receiver';
import { waitFor } from './support/wait';

const SUBSCRIPTIONS = 40;
const STEPS: ObservedChange[] = [
  { type: 'task.queued', state: 'queued' },
  { type: 'task.running', state: 'running' },
  { type: 'task.succeeded', state: 'succeeded', tracking: 'completed' },
];

async function succeededCount(relay: TestApp): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  const match = /uxc_relay_webhook_deliveries_total\{outcome="succeeded"\} (\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

describe('two dispatchers on one database', () => {
  const apps: TestApp[] = [];
  let receiver: WebhookReceiver;

  afterAll(async () => {
    await receiver?.close();
    for (const app of apps) await app.close();
  });

  it('share the work and send no event twice, each subscription in sequence order', async () => {
    const databaseUrl = await createTestDatabase();
    const env = {
      DISPATCHER_ENABLED: 'true',
      DISPATCHER_CONCURRENCY: '8',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms',
    };
    const one = await createTestApp(databaseUrl, env);
    apps.push(one);
    const two = await createTestApp(databaseUrl, env);
    apps.push(two);
    const { tenant } = await createTenant(one);
    // a little latency keeps both dispatchers busy at once
    receiver = await WebhookReceiver.start({
      answer: () => ({ delayMs: 5 + Math.floor(Math.random() * 20) }),
    });

    const subscriptions = [];
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      subscriptions.push(
        await createSubscription(one, tenant, {
          sid: `BT|replica-${i}`,
          callbackUrl: receiver.url(`/replica-${i}`),
        }),
      );
    }
    for (const step of STEPS) {
      for (const subscription of subscriptions) {
        await appendTaskEvent(one, subscription.taskId, step);
      }
    }
    const total = SUBSCRIPTIONS * STEPS.length;
    await receiver.waitForCount(total, 20_000);
    // every delivery settled and no lane held: neither replica has anything
    // in flight that could still arrive twice
    await waitFor('both replicas to be idle', async () => {
      const [pending, held] = await Promise.all([
        one.prisma.delivery.count({ where: { state: { not: 'succeeded' } } }),
        one.prisma.deliveryLane.count({ where: { lockedBy: { not: null } } }),
      ]);
      return pending === 0 && held === 0;
    });

    const ids = receiver.requests.map((r) => r.webhookId);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    for (const subscription of subscriptions) {
      const path = new URL(subscription.callbackUrl).pathname;
      const sequences = receiver
        .on(path)
        .map((r) => (r.json as { data: { sequence: number } }).data.sequence);
      expect(sequences).toEqual([1, 2, 3]);
    }
    const counts = [await succeededCount(one), await succeededCount(two)];
    expect(counts[0] + counts[1]).toBe(total);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    const attempts = await one.prisma.deliveryAttempt.count();
    expect(attempts).toBe(total);
  });
});
