import { SchedulerRegistry } from '@nestjs/schedule';
import { HistoryRetentionService } from '../src/poller/history-retention.service';
import { createSubscription } from './support/factories';
import { createTestApp } from './support/app';
import {
  FAST_POLLER,
  FIXTURE,
  PollerWorld,
  callTimes,
  eventsOf,
  gaps,
  pollCyclesPass,
  queued,
  running,
  startPollerWorld,
  taskOf,
  waitForEvents,
} from './support/poller-harness';
import { waitFor } from './support/wait';

const HOOK = 'http://127.0.0.1:9/hooks';

describe('poller ⇄ UXC simulator', () => {
  let world: PollerWorld;

  beforeAll(async () => {
    world = await startPollerWorld();
  });

  afterAll(() => world.close());

  it('turns a scripted lifecycle into events, history and task state', async () => {
    const { sim, relay, tenant } = world;
    const sid = FIXTURE.data.sid;
    sim.simulator.scriptTask({
      sid,
      mode: 'manual',
      steps: [queued(3), queued(1), running(0.5), { data: FIXTURE.data }],
    });
    const subscription = await createSubscription(relay, tenant.tenant, {
      sid,
      callbackUrl: `${HOOK}/lifecycle`,
      metadata: { order: 42 },
    });

    for (let seen = 1; seen <= 3; seen++) {
      await waitForEvents(relay, tenant.tenant.id, sid, seen);
      sim.simulator.advance(sid);
    }
    const events = await waitForEvents(relay, tenant.tenant.id, sid, 4);

    expect(
      events.map(({ sequence, type, state, previousState, status, queueNum }) => ({
        sequence,
        type,
        state,
        previousState,
        status,
        queueNum,
      })),
    ).toEqual([
      {
        sequence: 1,
        type: 'task.queued',
        state: 'queued',
        previousState: null,
        status: 100,
        queueNum: 3,
      },
      {
        sequence: 2,
        type: 'task.progress',
        state: 'queued',
        previousState: 'queued',
        status: 100,
        queueNum: 1,
      },
      {
        sequence: 3,
        type: 'task.running',
        state: 'running',
        previousState: 'queued',
        status: 200,
        queueNum: 0,
      },
      {
        sequence: 4,
        type: 'task.succeeded',
        state: 'succeeded',
        previousState: 'running',
        status: 1,
        queueNum: 0,
      },
    ]);
    expect(events[3]).toMatchObject({
      progress: 1,
      costTime: 66.59,
      message: 'ok',
      outputResult: FIXTURE.data.outputResult,
    });

    const task = await taskOf(relay, tenant.tenant.id, sid);
    expect(task).toMatchObject({
      state: 'succeeded',
      status: 1,
      tracking: 'completed',
      sequence: 4,
      costTime: 66.59,
      podIp: '10.106.129.88',
      podPort: '8103',
      outputResult: FIXTURE.data.outputResult,
      nextPollAt: null,
      lockedBy: null,
    });
    expect(task.finishedAt).not.toBeNull();
    expect(task.photoParameters).toEqual(FIXTURE.data.photoParameters);

    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: subscription.id },
      orderBy: { sequence: 'asc' },
    });
    expect(deliveries.map((d) => [d.sequence, d.eventType])).toEqual([
      [1, 'task.queued'],
      [2, 'task.progress'],
      [3, 'task.running'],
      [4, 'task.succeeded'],
    ]);
    const last = JSON.parse(deliveries[3].payload) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(last.type).toBe('task.succeeded');
    expect(last.data).toMatchObject({
      subscriptionId: subscription.id,
      sid,
      sequence: 4,
      state: 'succeeded',
      previousState: 'running',
      status: 1,
      previousStatus: 200,
      outputResult: FIXTURE.data.outputResult,
      metadata: { order: 42 },
    });

    // polling stopped: a terminal task is never asked about again
    const calls = sim.simulator.stats().bySid[sid];
    await pollCyclesPass(world);
    expect(sim.simulator.stats().bySid[sid]).toBe(calls);
  });

  it('answers a subscription to a finished task at once, without asking UXC', async () => {
    const { sim, relay, tenant } = world;
    const sid = FIXTURE.data.sid;
    const calls = sim.simulator.stats().bySid[sid];
    const late = await createSubscription(relay, tenant.tenant, {
      sid,
      callbackUrl: `${HOOK}/late`,
    });
    const deliveries = await relay.prisma.delivery.findMany({ where: { subscriptionId: late.id } });
    expect(deliveries.map((d) => [d.sequence, d.eventType, d.state])).toEqual([
      [4, 'task.succeeded', 'pending'],
    ]);
    expect(JSON.parse(deliveries[0].payload)).toMatchObject({
      type: 'task.succeeded',
      data: { subscriptionId: late.id, outputResult: FIXTURE.data.outputResult },
    });
    await pollCyclesPass(world);
    expect(sim.simulator.stats().bySid[sid]).toBe(calls);
    expect((await taskOf(relay, tenant.tenant.id, sid)).tracking).toBe('completed');
  });

  it('asks UXC once per cycle however many subscriptions wait on a task', async () => {
    const { sim, relay, tenant } = world;
    const sid = 'BT|five-subscribers';
    sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.1), running(0.2)] });
    const subscriptions = [];
    for (let i = 0; i < 5; i++) {
      subscriptions.push(
        await createSubscription(relay, tenant.tenant, { sid, callbackUrl: `${HOOK}/five/${i}` }),
      );
    }
    await waitForEvents(relay, tenant.tenant.id, sid, 1);
    // counted at the simulator: five more polls, every one a cycle (~100 ms)
    // after the one before; a poll per subscription would come five at a time
    const before = sim.simulator.stats().bySid[sid];
    await waitFor(
      'five more polls of the task',
      () => sim.simulator.stats().bySid[sid] >= before + 5,
    );
    expect(Math.min(...gaps(callTimes(sim, sid)))).toBeGreaterThanOrEqual(95);

    sim.simulator.advance(sid);
    const events = await waitForEvents(relay, tenant.tenant.id, sid, 2);
    const deliveries = await relay.prisma.delivery.findMany({ where: { eventId: events[1].id } });
    expect(deliveries.map((d) => d.subscriptionId).sort()).toEqual(
      subscriptions.map((s) => s.id).sort(),
    );
  });

  it('exposes polls by outcome, poll lag, and tasks by tracking state at /metrics', async () => {
    // a task of its own that is polled unchanged, then completes
    const { sim, relay, tenant } = world;
    const sid = 'BT|metrics';
    sim.simulator.scriptTask({
      sid,
      mode: 'manual',
      steps: [running(0.4), { data: { ...FIXTURE.data, sid } }],
    });
    await createSubscription(relay, tenant.tenant, { sid, callbackUrl: `${HOOK}/metrics` });
    await waitForEvents(relay, tenant.tenant.id, sid, 1);
    await waitFor('a second poll of the same answer', () => sim.simulator.stats().bySid[sid] >= 2);
    sim.simulator.advance(sid);
    await waitForEvents(relay, tenant.tenant.id, sid, 2);
    const text = await (await fetch(`${world.relay.url}/metrics`)).text();
    const value = (prefix: string): number =>
      text
        .split('\n')
        .filter((line) => line.startsWith(prefix))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    expect(value('uxc_relay_poller_polls_total{outcome="unchanged"}')).toBeGreaterThan(0);
    expect(value('uxc_relay_poller_polls_total{outcome="completed"}')).toBeGreaterThanOrEqual(1);
    expect(value('uxc_relay_poller_poll_lag_seconds_count')).toBeGreaterThan(0);
    expect(text).toMatch(/^uxc_relay_poller_tasks\{tracking="active"\} \d+$/m);
    // rate-limit waits are the UXC client's metric, not repeated by the poller
    expect(text).toContain('uxc_relay_uxc_rate_limit_wait_seconds_count');
  });

  const FAULTS = [
    ['errNo 3002', { kind: 'errNo', errNo: 3002, errMsg: 'invalid ak or sk' }, 3002],
    ['errNo 3103', { kind: 'errNo', errNo: 3103, errMsg: 'task busy' }, 3103],
    ['errNo 5000', { kind: 'errNo', errNo: 5000, errMsg: 'internal error' }, 5000],
    ['an HTML 502', { kind: 'http-error', status: 502 }, null],
    ['truncated JSON', { kind: 'truncated-json' }, null],
    ['a hang', { kind: 'hang', ms: 3000 }, null],
  ] as const;

  it('backs off on every simulator fault and recovers, with no state event for the fault', async () => {
    // all six at once, each on its own sid: the loop must survive them together
    await Promise.all(FAULTS.map(([name, fault, errNo]) => exerciseFault(name, fault, errNo)));
  });

  async function exerciseFault(
    name: string,
    fault: (typeof FAULTS)[number][1],
    errNo: number | null,
  ): Promise<void> {
    const { sim, relay, tenant } = world;
    const sid = `BT|fault ${name}`;
    sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.1), running(0.6)] });
    await createSubscription(relay, tenant.tenant, { sid, callbackUrl: `${HOOK}/faults` });
    await waitForEvents(relay, tenant.tenant.id, sid, 1);

    sim.simulator.addFault({ ...fault, sid, count: 4 });
    const faultedFrom = Date.now();
    await waitFor(
      `4 faulted calls of ${sid}`,
      async () =>
        sim.simulator
          .calls()
          .filter((c) => c.sid === sid && c.at >= faultedFrom && c.answer.startsWith('fault:'))
          .length >= 4,
    );
    const during = await taskOf(relay, tenant.tenant.id, sid);
    expect(during.tracking).toBe('active');
    expect(during.errorSince).not.toBeNull();
    expect(during.lastErrNo).toBe(errNo);

    // backing off: after the third error in a row the wait is at least twice the interval
    // (a running task is otherwise polled every 100 ms)
    const faulted = callTimes(sim, sid).filter((at) => at >= faultedFrom);
    const spacing = gaps(faulted.slice(0, 4));
    expect(Math.min(...spacing)).toBeGreaterThanOrEqual(100);
    expect(spacing[2]).toBeGreaterThanOrEqual(200);

    // recovery: the next answer is good again, and a change after it is an event as usual
    await waitFor('recovery', async () => {
      const task = await taskOf(relay, tenant.tenant.id, sid);
      return task.consecutiveErrors === 0 && task.errorSince === null;
    });
    sim.simulator.advance(sid);
    const events = await waitForEvents(relay, tenant.tenant.id, sid, 3);

    expect(events.map((e) => [e.sequence, e.type])).toEqual([
      [1, 'task.running'],
      [2, 'uxc.error'],
      [3, 'task.progress'],
    ]);
    expect(events[1].errNo).toBe(errNo);
    if (fault.kind === 'errNo') expect(events[1].errMsg).toBe(fault.errMsg);
    else expect(events[1].errMsg).toMatch(/^(http-status|bad-body|timeout): /);
    expect(events[2]).toMatchObject({ state: 'running', progress: 0.6 });

    const task = await taskOf(relay, tenant.tenant.id, sid);
    const delivered = await relay.prisma.delivery.findMany({ where: { taskId: task.id } });
    expect(delivered.map((d) => d.eventType).sort()).toEqual(['task.progress', 'task.running']);
    // nothing in the logs carries the secret key, even for the credential error
    expect(relay.logs.text).not.toContain(tenant.uxcSk);
  }
});

describe('poller: when polling stops', () => {
  let world: PollerWorld;

  beforeAll(async () => {
    world = await startPollerWorld({ TASK_TTL: '1500ms', UXC_ERROR_GIVE_UP: '600ms' });
  });

  afterAll(() => world.close());

  it('expires a task with no terminal state within TASK_TTL', async () => {
    const { sim, relay, tenant } = world;
    const sid = 'BT|never-ends';
    sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.3)] });
    const subscription = await createSubscription(relay, tenant.tenant, {
      sid,
      callbackUrl: `${HOOK}/ttl`,
    });
    const started = Date.now();
    await waitFor(
      'expiry',
      async () => (await taskOf(relay, tenant.tenant.id, sid)).tracking === 'expired',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);

    const task = await taskOf(relay, tenant.tenant.id, sid);
    const events = await eventsOf(relay, task.id);
    expect(events.map((e) => [e.sequence, e.type, e.state])).toEqual([
      [1, 'task.running', 'running'],
      [2, 'task.expired', 'running'],
    ]);
    expect(task).toMatchObject({ nextPollAt: null, lockedBy: null, state: 'running' });
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: subscription.id },
      orderBy: { sequence: 'asc' },
    });
    expect(deliveries.map((d) => d.eventType)).toEqual(['task.running', 'task.expired']);

    const calls = sim.simulator.stats().bySid[sid];
    await pollCyclesPass(world);
    expect(sim.simulator.stats().bySid[sid]).toBe(calls);
  });

  it('gives up on a sid that keeps failing past UXC_ERROR_GIVE_UP', async () => {
    const { sim, relay, tenant } = world;
    const sid = 'BT|always-failing';
    sim.simulator.addFault({ kind: 'errNo', sid, errNo: 5000, errMsg: 'internal error' });
    const subscription = await createSubscription(relay, tenant.tenant, {
      sid,
      callbackUrl: `${HOOK}/give-up`,
    });
    await waitFor(
      'giving up',
      async () => (await taskOf(relay, tenant.tenant.id, sid)).tracking === 'error',
    );

    const task = await taskOf(relay, tenant.tenant.id, sid);
    const events = await eventsOf(relay, task.id);
    // one history row for the whole run of errors, then the notified give-up
    expect(events.map((e) => [e.sequence, e.type, e.errNo])).toEqual([
      [1, 'uxc.error', 5000],
      [2, 'task.error', 5000],
    ]);
    expect(sim.simulator.stats().bySid[sid]).toBeGreaterThanOrEqual(3);
    expect(task).toMatchObject({ lastErrNo: 5000, lastErrMsg: 'internal error', nextPollAt: null });
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: subscription.id },
    });
    expect(deliveries.map((d) => d.eventType)).toEqual(['task.error']);
    expect(JSON.parse(deliveries[0].payload)).toMatchObject({
      type: 'task.error',
      data: { sequence: 2 },
    });

    const calls = sim.simulator.stats().bySid[sid];
    await pollCyclesPass(world);
    expect(sim.simulator.stats().bySid[sid]).toBe(calls);
  });

  it('stops polling when every subscription is canceled, and a new one wakes the task', async () => {
    const { sim, relay, tenant } = world;
    const sid = 'BT|abandoned';
    sim.simulator.scriptTask({ sid, mode: 'manual', steps: [queued(4), queued(3)] });
    const first = await createSubscription(relay, tenant.tenant, { sid, callbackUrl: `${HOOK}/a` });
    const second = await createSubscription(relay, tenant.tenant, {
      sid,
      callbackUrl: `${HOOK}/b`,
    });
    await waitForEvents(relay, tenant.tenant.id, sid, 1);

    await relay.prisma.subscription.update({
      where: { id: first.id },
      data: { state: 'canceled' },
    });
    // still polled for the other subscriber: asked again twice since
    const asked = sim.simulator.stats().bySid[sid];
    await waitFor('two more polls', () => sim.simulator.stats().bySid[sid] >= asked + 2);
    expect((await taskOf(relay, tenant.tenant.id, sid)).tracking).toBe('active');
    await relay.prisma.subscription.update({
      where: { id: second.id },
      data: { state: 'canceled' },
    });
    await waitFor(
      'idle',
      async () => (await taskOf(relay, tenant.tenant.id, sid)).tracking === 'idle',
    );
    const calls = sim.simulator.stats().bySid[sid];
    // two cycles: this world's TASK_TTL is short
    await pollCyclesPass(world, 2);
    expect(sim.simulator.stats().bySid[sid]).toBe(calls);

    // canceling is not an event; a new subscriber wakes the task, and history continues
    sim.simulator.advance(sid);
    const third = await createSubscription(relay, tenant.tenant, { sid, callbackUrl: `${HOOK}/c` });
    const events = await waitForEvents(relay, tenant.tenant.id, sid, 2);
    expect(events.map((e) => [e.sequence, e.type, e.queueNum])).toEqual([
      [1, 'task.queued', 4],
      [2, 'task.progress', 3],
    ]);
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: third.id },
      orderBy: { sequence: 'asc' },
    });
    // the current state at once, then the change
    expect(deliveries.map((d) => [d.sequence, d.eventType])).toEqual([
      [1, 'task.queued'],
      [2, 'task.progress'],
    ]);
    expect((await taskOf(relay, tenant.tenant.id, sid)).tracking).toBe('active');
  });

  it('purges finished tasks older than HISTORY_RETENTION with their history and deliveries', async () => {
    const { relay, tenant } = world;
    const retention = relay.app.get(HistoryRetentionService);
    const finished = await relay.prisma.task.findMany({
      where: { tenantId: tenant.tenant.id, tracking: { not: 'active' } },
    });
    expect(finished.length).toBeGreaterThanOrEqual(2);
    const active = await relay.prisma.task.count({ where: { tracking: 'active' } });

    // 30 days (the default) from now: nothing is old enough yet
    expect(await retention.purgeHistory(new Date())).toBe(0);
    const later = new Date(Date.now() + 31 * 24 * 3600 * 1000);
    expect(await retention.purgeHistory(later)).toBe(finished.length);

    const ids = finished.map((t) => t.id);
    expect(await relay.prisma.task.count({ where: { id: { in: ids } } })).toBe(0);
    expect(await relay.prisma.taskEvent.count({ where: { taskId: { in: ids } } })).toBe(0);
    expect(await relay.prisma.delivery.count({ where: { taskId: { in: ids } } })).toBe(0);
    expect(await relay.prisma.task.count({ where: { tracking: 'active' } })).toBe(active);
  });
});

describe('poller: POLLER_ENABLED=false', () => {
  let world: PollerWorld;

  beforeAll(async () => {
    world = await startPollerWorld({ POLLER_ENABLED: 'false' });
  });

  afterAll(() => world.close());

  it('registers no loop at all: subscriptions are stored, UXC is never called', async () => {
    const { sim, relay, tenant } = world;
    expect(relay.app.get(SchedulerRegistry).getIntervals()).not.toContain('poller.tick');
    const sid = 'BT|api-node';
    sim.simulator.scriptTask({ sid, mode: 'manual', steps: [running(0.3)] });
    await createSubscription(relay, tenant.tenant, { sid, callbackUrl: HOOK });
    expect(await taskOf(relay, tenant.tenant.id, sid)).toMatchObject({
      tracking: 'active',
      sequence: 0,
      lastPolledAt: null,
    });

    // the task waits for a poller elsewhere: one on the same database takes
    // it, and every call UXC saw came from that one
    const pollerStartedAt = Date.now();
    const poller = await createTestApp(world.databaseUrl, {
      UXC_BASE_URL: sim.url,
      ...FAST_POLLER,
    });
    try {
      await waitForEvents(relay, tenant.tenant.id, sid, 1);
      expect(sim.simulator.calls().every((c) => c.at >= pollerStartedAt)).toBe(true);
    } finally {
      await poller.close();
    }
  });
});
