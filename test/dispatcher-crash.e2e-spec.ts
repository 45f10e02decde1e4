import { TEST_ENCRYPTION_KEY, createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { appendTaskEvent, createSubscription, createTenant } from './support/factories';
import { WebhookReceiver } from './support/receiver';
import { RelayProcess, spawnRelay } from './support/relay-process';
import { sleep } from './support/wait';

const DELIVERIES = 50;

/**
 * At least once across a crash: the built relay is killed with SIGKILL while
 * 50 requests hang at a slow receiver, and a new process takes the deliveries
 * over once the dead one's leases run out.
 */
describe('dispatcher killed mid-flight', () => {
  let seeder: TestApp;
  let receiver: WebhookReceiver;
  const processes: RelayProcess[] = [];

  afterAll(async () => {
    for (const relay of processes) relay.child.kill('SIGKILL');
    await Promise.all(processes.map((relay) => relay.exited));
    await receiver?.close();
    await seeder?.close();
  });

  it('delivers every event at least once, repeats under their original webhook-id', async () => {
    const databaseUrl = await createTestDatabase();
    seeder = await createTestApp(databaseUrl);
    const { tenant, webhookSecret } = await createTenant(seeder);
    receiver = await WebhookReceiver.start({
      secrets: [webhookSecret],
      answer: { delayMs: 30_000 },
    });

    const subscriptions = [];
    for (let i = 0; i < DELIVERIES; i++) {
      subscriptions.push(
        await createSubscription(seeder, tenant, {
          sid: `BT|crash-${i}`,
          callbackUrl: receiver.url(`/crash-${i}`),
        }),
      );
    }
    for (const subscription of subscriptions) {
      await appendTaskEvent(seeder, subscription.taskId, { type: 'task.queued', state: 'queued' });
    }
    const env = {
      DATABASE_URL: databaseUrl,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_BASE_URL: 'http://127.0.0.1:9',
      POLLER_ENABLED: 'false',
      DISPATCHER_ENABLED: 'true',
      DISPATCHER_CONCURRENCY: '64',
      DISPATCHER_PER_HOST_CONCURRENCY: '64',
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_TIMEOUT_MS: '3000',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms',
    };

    const first = await spawnRelay(env);
    processes.push(first);
    await receiver.waitForCount(DELIVERIES, 20_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    // the dead process still holds every lease, and no attempt was recorded
    const held = await seeder.prisma.delivery.findMany();
    expect(held).toHaveLength(DELIVERIES);
    expect(held.every((d) => d.state === 'pending')).toBe(true);
    const lanes = await seeder.prisma.deliveryLane.findMany();
    expect(lanes).toHaveLength(DELIVERIES);
    expect(lanes.every((lane) => lane.lockedBy !== null)).toBe(true);

    receiver.setAnswer({});
    const killedAt = Date.now();
    const second = await spawnRelay(env);
    processes.push(second);
    await receiver.waitForCount(2 * DELIVERIES, 20_000);
    // taken over only once the leases ran out (3 s timeout + margin)
    const resent = receiver.requests.slice(DELIVERIES);
    expect(Math.min(...resent.map((r) => r.at)) - killedAt).toBeGreaterThanOrEqual(3000);

    const deadline = Date.now() + 10_000;
    let rows = await seeder.prisma.delivery.findMany({ include: { attemptLog: true } });
    while (rows.some((d) => d.state !== 'succeeded') && Date.now() < deadline) {
      await sleep(100);
      rows = await seeder.prisma.delivery.findMany({ include: { attemptLog: true } });
    }
    expect(rows.map((d) => d.state)).toEqual(Array(DELIVERIES).fill('succeeded'));

    const byId = new Map(rows.map((d) => [d.id, d]));
    const pathOf = new Map(subscriptions.map((sub) => [sub.id, new URL(sub.callbackUrl).pathname]));
    const seen = new Map<string, number>();
    for (const request of receiver.requests) {
      const delivery = byId.get(request.webhookId);
      // every request is one of the stored messages, byte for byte, and verifies
      expect(delivery).toBeDefined();
      expect(request.body).toBe(delivery?.payload);
      expect(request.path).toBe(pathOf.get(delivery?.subscriptionId ?? ''));
      // the receiver answers 401 to a signature that does not verify
      expect(request.status).not.toBe(401);
      seen.set(request.webhookId, (seen.get(request.webhookId) ?? 0) + 1);
    }
    expect(seen.size).toBe(DELIVERIES);
    // each was in flight at the crash and sent again under the same id
    expect([...seen.values()].every((count) => count === 2)).toBe(true);
    expect(rows.every((d) => d.attempts === 1 && d.attemptLog.length === 1)).toBe(true);
  });
});
