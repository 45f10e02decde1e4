import { Client } from 'pg';
import { TaskStore } from '../src/tasks/task.store';
import { TestApp, createTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { TenantFixture, createSubscription, createTenant } from './support/factories';

/**
 * The poller renews the leases of the tasks it is polling while its history
 * writes take those tasks' next sequences: both lock task rows, in different
 * orders, and under a steady load they deadlocked. A renewal skips a row held
 * by another transaction instead of waiting for it.
 */
describe('a poller renewing its leases', () => {
  let databaseUrl: string;
  let relay: TestApp;
  let tenant: TenantFixture;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    relay = await createTestApp(databaseUrl);
    tenant = await createTenant(relay);
  });

  afterAll(async () => {
    await relay?.close();
  });

  it('renews the rows it can lock and does not wait for a row another transaction holds', async () => {
    const store = relay.app.get(TaskStore);
    const ids: string[] = [];
    for (const sid of ['renew-held', 'renew-free']) {
      const subscription = await createSubscription(relay, tenant.tenant, {
        sid,
        callbackUrl: 'http://127.0.0.1:9/hook',
      });
      ids.push(subscription.taskId);
    }
    const [held, free] = ids;
    await relay.prisma.$executeRaw`
      UPDATE tasks SET locked_by = ${store.owner}, locked_until = now() + interval '1 second'
      WHERE id = ANY(${ids}::text[])`;
    const before = await relay.prisma.task.findMany({ where: { id: { in: ids } } });
    const until = (id: string) => before.find((task) => task.id === id)?.lockedUntil?.getTime();

    // what a history write does: takes the task's next sequence and keeps the row lock until commit
    const writer = new Client({ connectionString: databaseUrl });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('UPDATE tasks SET sequence = sequence + 1 WHERE id = $1', [held]);

      expect(await store.extend([free, held])).toBe(1);

      const after = await relay.prisma.task.findMany({ where: { id: { in: ids } } });
      const renewed = (id: string) => after.find((task) => task.id === id)?.lockedUntil?.getTime();
      expect(renewed(free)).toBeGreaterThan(until(free) as number);
      expect(renewed(held)).toBe(until(held));
    } finally {
      await writer.query('ROLLBACK');
      await writer.end();
    }

    // once the writer is done, the next beat renews it
    expect(await store.extend([free, held])).toBe(2);
  });
});
