import { PollerService } from '../src/poller/poller.service';
import { createSubscription } from './support/factories';
import { PollerWorld, eventsOf, running, startPollerWorld, taskOf } from './support/poller-harness';
import { waitFor } from './support/wait';

/**
 * A poller claims more due tasks than it has slots, so that a slot freed by
 * an answer goes to the next task at once. The tasks claimed ahead are held
 * under its lease until a slot frees; a poller that stops first gives them
 * back without asking UXC about them, for another poller to take at once.
 */
describe('a poller with more due tasks than slots', () => {
  let world: PollerWorld;

  beforeAll(async () => {
    world = await startPollerWorld({ POLLER_CONCURRENCY: '2', UXC_TIMEOUT_MS: '10000' });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('holds the tasks claimed ahead until a slot frees, and gives them back unasked when it stops', async () => {
    const { sim, relay, tenant } = world;
    const poller = relay.app.get(PollerService);
    // every answer takes a while, so both slots stay taken while the test looks
    sim.simulator.addFault({ kind: 'latency', ms: 1500 });
    const sids = Array.from({ length: 6 }, (_, i) => `BT|claim-ahead-${i}`);
    const taskIds: string[] = [];
    for (const sid of sids) {
      sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.1)] });
      const subscription = await createSubscription(relay, tenant.tenant, {
        sid,
        callbackUrl: 'http://127.0.0.1:9/hook',
      });
      taskIds.push(subscription.taskId);
    }
    const held = async (): Promise<number> =>
      relay.prisma.task.count({ where: { id: { in: taskIds }, lockedBy: poller.owner } });
    const asked = (): string[] =>
      sim.simulator
        .calls()
        .map((call) => call.sid ?? '')
        .filter((sid) => sids.includes(sid));

    // two slots asking, two tasks claimed ahead of them, two left for later
    await waitFor('two calls in flight', () => asked().length === 2);
    await waitFor('four tasks held by the poller', async () => (await held()) === 4);

    await poller.stop();

    // the two asked about were written; the two waiting were never asked about
    expect(asked()).toHaveLength(2);
    expect(await held()).toBe(0);
    const polled = new Set(asked());
    for (const sid of sids) {
      const task = await taskOf(relay, tenant.tenant.id, sid);
      const events = await eventsOf(relay, task.id);
      expect(events.map((event) => event.type)).toEqual(polled.has(sid) ? ['task.running'] : []);
      expect(task.lockedUntil).toBeNull();
    }
  });
});
