import { startSimulatorServer, SimulatorServer } from '../src/simulator/simulator-server';
import { TestApp, createTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { createSubscription, createTenant } from './support/factories';
import { FAST_POLLER, callTimes, eventsOf, gaps } from './support/poller-harness';
import { waitFor } from './support/wait';

const TASKS = 6;

/** Sum of `uxc_relay_poller_polls_total` over every outcome, from /metrics. */
async function pollsOf(relay: TestApp): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('uxc_relay_poller_polls_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('two pollers on one database', () => {
  let sim: SimulatorServer;
  let relays: TestApp[];

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    sim = await startSimulatorServer({
      failSidPattern: null,
      lifecycle: {
        queuedMs: 1500,
        queueLength: 3,
        queueTotal: 5,
        runningMs: 1500,
        progressSteps: 3,
      },
    });
    relays = [
      await createTestApp(databaseUrl, {
        UXC_BASE_URL: sim.url,
        ...FAST_POLLER,
        UXC_RATE_LIMIT: '200',
      }),
      await createTestApp(databaseUrl, {
        UXC_BASE_URL: sim.url,
        ...FAST_POLLER,
        UXC_RATE_LIMIT: '200',
      }),
    ];
  });

  afterAll(async () => {
    for (const relay of relays) await relay.close();
    await sim.close();
  });

  it('share the tasks, never poll one twice within an interval, and emit every event once', async () => {
    const [a, b] = relays;
    const tenant = await createTenant(a);
    sim.simulator.addCredential({ ak: tenant.uxcAk, sk: tenant.uxcSk });
    const sids = Array.from({ length: TASKS }, (_, i) => `BT|replica-${i}`);
    const subscriptions = await Promise.all(
      sids.map((sid, i) =>
        createSubscription(i % 2 ? a : b, tenant.tenant, {
          sid,
          callbackUrl: `http://127.0.0.1:9/replicas/${i}`,
        }),
      ),
    );

    await waitFor(
      'every task to finish',
      async () => (await a.prisma.task.count({ where: { tracking: 'completed' } })) === TASKS,
      20_000,
    );

    // both pollers did part of the work
    expect(await pollsOf(a)).toBeGreaterThan(0);
    expect(await pollsOf(b)).toBeGreaterThan(0);

    for (const [i, sid] of sids.entries()) {
      // a running task is due every 100 ms; two pollers on it would show closer calls
      const spacing = gaps(callTimes(sim, sid));
      expect(spacing.length).toBeGreaterThanOrEqual(6);
      expect(Math.min(...spacing)).toBeGreaterThanOrEqual(95);

      const task = await a.prisma.task.findUniqueOrThrow({
        where: { tenantId_sid: { tenantId: tenant.tenant.id, sid } },
      });
      const events = await eventsOf(a, task.id);
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, n) => n + 1));
      expect(task.sequence).toBe(events.length);
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('task.queued');
      expect(types[types.length - 1]).toBe('task.succeeded');
      for (const type of ['task.queued', 'task.running', 'task.succeeded']) {
        expect(types.filter((t) => t === type)).toHaveLength(1);
      }
      // no two events record the same observation
      const observations = events.map((e) => JSON.stringify([e.state, e.progress, e.queueNum]));
      expect(new Set(observations).size).toBe(events.length);

      const deliveries = await a.prisma.delivery.findMany({
        where: { subscriptionId: subscriptions[i].id },
        orderBy: { sequence: 'asc' },
      });
      expect(deliveries.map((d) => d.sequence)).toEqual(events.map((e) => e.sequence));
    }
  });
});
