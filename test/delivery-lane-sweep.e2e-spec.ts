import { Client } from 'pg';
import { DeliveryStore } from '../src/outbox/delivery.store';
import { TestApp, createTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import {
  TenantFixture,
  appendTaskEvent,
  createSubscription,
  createTenant,
} from './support/factories';

/**
 * The dispatcher deletes lanes that went idle, in its completion statement
 * and in a sweep. An outbox write waking an idle lane holds it until it
 * commits, and may wait meanwhile for another lane that the completion
 * statement locked: had the completion waited for the woken lane, the two
 * deadlocked (a history write failed so under a burst). An idle lane held
 * by someone else is skipped, and removed later if it stays idle.
 */
describe('idle lanes', () => {
  let databaseUrl: string;
  let relay: TestApp;
  let tenant: TenantFixture;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    relay = await createTestApp(databaseUrl, { DISPATCHER_ENABLED: 'false' });
    tenant = await createTenant(relay);
  });

  afterAll(async () => {
    await relay?.close();
  });

  it('are deleted without waiting for one that another transaction holds', async () => {
    const store = relay.app.get(DeliveryStore);
    const lanes: string[] = [];
    for (const sid of ['BT|sweep-held', 'BT|sweep-free']) {
      const subscription = await createSubscription(relay, tenant.tenant, {
        sid,
        callbackUrl: 'http://127.0.0.1:9/hook',
      });
      await appendTaskEvent(relay, subscription.taskId, { type: 'task.queued', state: 'queued' });
      lanes.push(subscription.id);
    }
    const [held, free] = lanes;
    // both lanes sent what they had and went idle
    await relay.prisma.$executeRaw`
      UPDATE delivery_lanes SET due_at = NULL WHERE id = ANY(${lanes}::text[])`;
    const remaining = async (): Promise<string[]> =>
      (
        await relay.prisma.deliveryLane.findMany({
          where: { id: { in: lanes } },
          orderBy: { id: 'asc' },
        })
      ).map((lane) => lane.id);

    // what an outbox write waking the lane holds until it commits
    const writer = new Client({ connectionString: databaseUrl });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('SELECT id FROM delivery_lanes WHERE id = $1 FOR UPDATE', [held]);

      expect(await store.complete('dispatcher-elsewhere', [], [held, free])).toEqual([]);
      expect(await remaining()).toEqual([held]);
      await store.sweepIdleLanes();
      expect(await remaining()).toEqual([held]);
    } finally {
      await writer.query('ROLLBACK');
      await writer.end();
    }

    // still idle once the writer is gone: the sweep removes it
    await store.sweepIdleLanes();
    expect(await remaining()).toEqual([]);
  });
});
