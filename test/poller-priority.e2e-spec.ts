import { createSubscriptions } from './support/factories';
import { PollerWorld, queued, running, startPollerWorld } from './support/poller-harness';
import { waitFor } from './support/wait';

// More due polls than the credential's rate allows: 300 tasks 50th in line
// (each asked every POLL_MAX_INTERVAL_MS = 5 s: 60 calls/s) and 3 running
// tasks (each every POLL_INTERVAL_MS = 1 s), at UXC_RATE_LIMIT=40.
const RATE = 40;
const DEEP = 300;
const RUNNING = 3;
/** Calls of each running task the measured window spans. */
const WINDOW_CALLS = 8;

describe('poller: claim lanes under a rate-limited credential', () => {
  let world: PollerWorld;
  const deep = Array.from({ length: DEEP }, (_, i) => `BT|deep-${i}`);
  const runningSids = Array.from({ length: RUNNING }, (_, i) => `BT|running-${i}`);

  beforeAll(async () => {
    world = await startPollerWorld({
      UXC_RATE_LIMIT: String(RATE),
      POLL_INTERVAL_MS: '1000',
      POLL_MAX_INTERVAL_MS: '5000',
      DISPATCHER_ENABLED: 'false',
    });
    for (const sid of deep) {
      world.sim.simulator.scriptTask({ sid, mode: 'manual', steps: [queued(50)] });
    }
    for (const sid of runningSids) {
      world.sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.5)] });
    }
    await createSubscriptions(
      world.relay,
      world.tenant.tenant,
      [...deep, ...runningSids].map((sid) => ({ sid, callbackUrl: 'http://127.0.0.1:9/hooks' })),
    );
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  const callsOf = (sid: string): number => world.sim.simulator.stats().bySid[sid] ?? 0;

  it('polls the running tasks at their cadence while the deep queue keeps moving', async () => {
    // every task seen once and its lane written: the deep ones are in lane 1 from here on
    await waitFor(
      'the first answer of every deep task recorded',
      async () =>
        (await world.relay.prisma.task.count({ where: { sid: { in: deep }, pollLane: 1 } })) ===
        DEEP,
      60_000,
    );
    const lanes = await world.relay.prisma.task.findMany({
      where: { sid: { in: runningSids } },
      select: { pollLane: true },
    });
    expect(lanes.map((task) => task.pollLane)).toEqual(runningSids.map(() => 0));

    const before = world.sim.simulator.stats().bySid;
    const since = (sid: string): number => callsOf(sid) - (before[sid] ?? 0);
    await waitFor(
      `${WINDOW_CALLS} more polls of every running task`,
      () => runningSids.every((sid) => since(sid) >= WINDOW_CALLS),
      60_000,
    );
    const deepCalls = deep.map(since);
    // a running task is due every second, a deep one every 5 s: claimed by
    // how overdue they are, all would have waited their turn alike
    expect(Math.max(...deepCalls)).toBeLessThanOrEqual(WINDOW_CALLS / 2);
    // the deep queue's share of the rate still went to it
    expect(deepCalls.reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);

    // and none of it is starved: every deep task is asked again
    await waitFor(
      'a second poll of every deep task',
      () => deep.every((sid) => callsOf(sid) >= 2),
      60_000,
    );
  }, 180_000);
});
