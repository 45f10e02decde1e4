import { Client } from 'pg';
import { TaskHistory } from '../src/tasks/task-history';
import { TestApp, createTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { TenantFixture, createSubscriptions, createTenant } from './support/factories';

const OWNER = 'history-batching-test';
const LATER = 40;

/**
 * Changes that a poller records one after another, while a history
 * transaction is being written, wait for it and go together into the next
 * transaction: a trickle of changes costs a transaction per round trip, not a
 * transaction (of some ten statements) per change.
 */
describe('task history under a trickle of changes', () => {
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

  const leasedTasks = async (prefix: string, count: number): Promise<string[]> => {
    const subscriptions = await createSubscriptions(
      relay,
      tenant.tenant,
      Array.from({ length: count }, (_, i) => ({
        sid: `${prefix}-${i}`,
        callbackUrl: 'http://127.0.0.1:9/hook',
      })),
    );
    const ids = subscriptions.map((subscription) => subscription.taskId);
    await relay.prisma.$executeRaw`
      UPDATE tasks SET locked_by = ${OWNER}, locked_until = now() + interval '1 minute'
      WHERE id = ANY(${ids}::text[])`;
    return ids;
  };
  const append = (taskId: string, queueNum: number) =>
    relay.app
      .get(TaskHistory)
      .append(
        { taskId, owner: OWNER },
        { type: 'task.queued', state: 'queued', queueNum, observedAt: new Date() },
        { state: 'queued', queueNum },
      );

  it('writes the changes that arrive during a transaction together in the next one', async () => {
    const ids = await leasedTasks('trickle', LATER + 1);

    // the first transaction waits for a row lock held here, so it is still
    // being written while the other changes come in, one per tick
    const blocker = new Client({ connectionString: databaseUrl });
    await blocker.connect();
    let first: Promise<unknown>;
    const later: Promise<unknown>[] = [];
    try {
      await blocker.query('BEGIN');
      await blocker.query('UPDATE tasks SET sequence = sequence WHERE id = $1', [ids[0]]);
      first = append(ids[0], 1);
      await waitForLockWait(blocker);
      for (const taskId of ids.slice(1)) {
        later.push(append(taskId, 2));
        await new Promise((done) => setImmediate(done));
      }
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await Promise.all([first, ...later]);

    const rows = await relay.prisma.$queryRaw<{ taskId: string; tx: string }[]>`
      SELECT task_id AS "taskId", xmin::text AS tx FROM task_events WHERE task_id = ANY(${ids}::text[])`;
    expect(rows).toHaveLength(LATER + 1);
    const txOf = (taskId: string) => rows.find((row) => row.taskId === taskId)?.tx;
    const laterTransactions = new Set(ids.slice(1).map(txOf));
    expect(laterTransactions.size).toBe(1);
    expect(laterTransactions.has(txOf(ids[0]))).toBe(false);
    // and each change queued its webhook, as a change written alone does
    const deliveries = await relay.prisma.delivery.count({ where: { taskId: { in: ids } } });
    expect(deliveries).toBe(LATER + 1);
  });

  it('starts another transaction beside one stuck on a row lock once many changes wait', async () => {
    const ids = await leasedTasks('stuck', 61);
    const blocker = new Client({ connectionString: databaseUrl });
    await blocker.connect();
    const appended: Promise<unknown>[] = [];
    try {
      await blocker.query('BEGIN');
      await blocker.query('UPDATE tasks SET sequence = sequence WHERE id = $1', [ids[0]]);
      appended.push(append(ids[0], 1));
      await waitForLockWait(blocker);
      for (const taskId of ids.slice(1)) {
        appended.push(append(taskId, 2));
        await new Promise((done) => setImmediate(done));
      }
      // written while the first transaction still waits for the lock held here
      const deadline = Date.now() + 10_000;
      let written = 0;
      while (written === 0 && Date.now() < deadline) {
        const { rows } = await blocker.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM task_events WHERE task_id = ANY($1::text[])',
          [ids.slice(1)],
        );
        written = rows[0].n;
        if (written === 0) await new Promise((done) => setTimeout(done, 50));
      }
      expect(written).toBeGreaterThan(0);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await Promise.all(appended);
    const events = await relay.prisma.taskEvent.count({ where: { taskId: { in: ids } } });
    expect(events).toBe(ids.length);
  });
});

/** Until some other backend waits for a lock that `holder`'s backend holds. */
async function waitForLockWait(holder: Client): Promise<void> {
  for (;;) {
    const { rows } = await holder.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))`,
    );
    if (rows[0].n > 0) return;
    await new Promise((done) => setTimeout(done, 20));
  }
}
