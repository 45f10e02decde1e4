import { SimulatorServer, startSimulatorServer } from '../src/simulator/simulator-server';
import { TEST_ENCRYPTION_KEY, TestApp, createTestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { TenantFixture, createSubscription, createTenant } from './support/factories';
import { RelayProcess, spawnRelay, waitForOk } from './support/relay-process';
import { eventsOf, queued, running, taskOf, waitForEvents } from './support/poller-harness';
import { waitFor } from './support/wait';

/**
 * The built relay as a real process (`dist/src/main.js`, built by `npm test`'s
 * pretest), killed with SIGKILL in the middle of a poll.
 */
describe('a poller killed mid-poll', () => {
  let sim: SimulatorServer;
  let databaseUrl: string;
  let relay: TestApp;
  let tenant: TenantFixture;
  const children: RelayProcess[] = [];

  const startPoller = async (): Promise<RelayProcess> => {
    const child = await spawnRelay({
      DATABASE_URL: databaseUrl,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      UXC_BASE_URL: sim.url,
      POLLER_ENABLED: 'true',
      DISPATCHER_ENABLED: 'false',
      POLL_INTERVAL_MS: '100',
      POLL_MAX_INTERVAL_MS: '1000',
      UXC_TIMEOUT_MS: '1000',
    });
    children.push(child);
    await waitForOk(`${child.url}/health/ready`, 30_000, child);
    return child;
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    sim = await startSimulatorServer({ failSidPattern: null });
    // the API side only: sets up tenant and subscription, never polls
    relay = await createTestApp(databaseUrl, { UXC_BASE_URL: sim.url });
    tenant = await createTenant(relay);
    sim.simulator.addCredential({ ak: tenant.uxcAk, sk: tenant.uxcSk });
  });

  afterAll(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await relay.close();
    await sim.close();
  });

  it('loses nothing: the lease expires and another process resumes the sequence', async () => {
    const sid = 'BT|survives-sigkill';
    sim.simulator.scriptTask({
      sid,
      mode: 'manual',
      steps: [
        queued(5),
        queued(4),
        running(0.5),
        {
          data: {
            status: 1,
            progress: 1,
            message: 'ok',
            queueNum: 0,
            queueTotal: 0,
            outputResult: ['cos://b/k.WEBP'],
          },
        },
      ],
    });
    const subscription = await createSubscription(relay, tenant.tenant, {
      sid,
      callbackUrl: 'http://127.0.0.1:9/crash',
    });

    const first = await startPoller();
    await waitForEvents(relay, tenant.tenant.id, sid, 1, 20_000);
    // the next answer is slow and carries a change: kill the poller while it waits for it
    sim.simulator.addFault({ kind: 'latency', sid, ms: 800, count: 1 });
    sim.simulator.advance(sid);
    const slowCallFrom = Date.now();
    await waitFor('the slow call to arrive', async () =>
      sim.simulator.calls().some((c) => c.sid === sid && c.at >= slowCallFrom),
    );
    const held = await taskOf(relay, tenant.tenant.id, sid);
    expect(held.lockedBy).not.toBeNull();
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await first.exited).toBe('SIGKILL');
    // the answer went to nobody: the simulator saw the poll's connection end
    // before it answered, and nothing of it was recorded
    await waitFor(
      'the simulator to see the slow poll abandoned',
      () => sim.simulator.stats().abandoned >= 1,
    );
    expect((await eventsOf(relay, held.id)).map((e) => e.sequence)).toEqual([1]);
    const leaseEnd = (await taskOf(relay, tenant.tenant.id, sid)).lockedUntil as Date;
    expect(leaseEnd.getTime()).toBeGreaterThan(Date.now());

    const second = await startPoller();
    await waitForEvents(relay, tenant.tenant.id, sid, 2, 20_000);
    // the second process waited for the dead one's lease
    const resumed = sim.simulator.calls().filter((c) => c.sid === sid && c.at > killedAt);
    expect(resumed[0].at).toBeGreaterThanOrEqual(leaseEnd.getTime() - 50);

    sim.simulator.advance(sid);
    await waitForEvents(relay, tenant.tenant.id, sid, 3);
    sim.simulator.advance(sid);
    const events = await waitForEvents(relay, tenant.tenant.id, sid, 4);
    expect(events.map((e) => [e.sequence, e.type, e.queueNum])).toEqual([
      [1, 'task.queued', 5],
      [2, 'task.progress', 4],
      [3, 'task.running', 0],
      [4, 'task.succeeded', 0],
    ]);
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: subscription.id },
      orderBy: { sequence: 'asc' },
    });
    expect(deliveries.map((d) => d.sequence)).toEqual([1, 2, 3, 4]);
    expect(await taskOf(relay, tenant.tenant.id, sid)).toMatchObject({
      tracking: 'completed',
      sequence: 4,
      lockedBy: null,
    });

    // a clean stop gives its leases back
    second.child.kill('SIGTERM');
    await second.exited;
    expect(await relay.prisma.task.count({ where: { lockedBy: { not: null } } })).toBe(0);
  }, 60_000);
});
