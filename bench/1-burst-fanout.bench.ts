import type { BenchContext, BenchResult, BenchScenario } from './bench-scenario';
import { latencyOf, notifyLatencies, orderCheck, peakRate, waitFor } from './support/analysis';
import { DbSampler } from './support/db-sampler';
import { round } from './support/http';
import { PlanSpec, sidOf } from './support/plans';
import { subscribeAll } from './support/subscribe';
import { World } from './support/world';

/**
 * One business party's burst: every task of a batch walks queued → queue
 * progress → running → progress → succeeded at about the same moment, and
 * every subscription of every task points at the same endpoint (one host).
 */
const SUBSCRIPTIONS_PER_TASK = 5;

async function run(context: BenchContext): Promise<BenchResult> {
  const tasks = context.size(2000, 200);
  const spec: PlanSpec = {
    kind: 'burst',
    queueSteps: 2,
    runSteps: 2,
    stepMs: 2000,
    spreadMs: 1000,
  };
  const eventsAfterStart = spec.queueSteps + spec.runSteps + 1;
  const env = {
    POLL_INTERVAL_MS: '1000',
    // 2,000 tasks at a one-second cadence: the per-credential cap must not be what is measured
    UXC_RATE_LIMIT: '10000',
  };
  const world = await World.start(context, { spec, hosts: 1 });
  try {
    const relay = await world.startRelay(env);
    const prefix = `burst${Date.now()}`;
    const items = [];
    for (let t = 0; t < tasks; t++)
      for (let s = 0; s < SUBSCRIPTIONS_PER_TASK; s++)
        items.push({ sid: sidOf(prefix, t), callbackUrl: world.callbackUrl(0, `/hooks/${s}`) });
    context.log(`registering ${items.length} subscriptions`);
    const registered = await subscribeAll(world.api!, items);
    context.log(
      `registered in ${registered.seconds.toFixed(1)} s (${registered.via}); waiting for every first event`,
    );
    await waitFor(
      'the first event of every subscription',
      async () => (await world.counts()).received >= items.length,
      context.size(300_000, 60_000),
    );
    await world.resetReceiver();
    const before = relay.usage();
    const uxcBefore = await world.uxcStats();
    const sampler = new DbSampler(await world.database.connect());
    sampler.start();
    const t0 = await world.go(1000);
    const expected = items.length * eventsAfterStart;
    context.log(`burst started: ${expected} state changes × subscriptions to come`);
    const finished = await waitFor(
      'the terminal event of every subscription',
      async () => ((await world.counts()).byType['task.succeeded'] ?? 0) >= items.length,
      context.size(600_000, 90_000),
      100,
    );
    const after = relay.usage();
    const sampled = await sampler.stop();
    const uxcAfter = await world.uxcStats();
    const receipts = await world.receipts();
    const clock = await world.clock();
    const states = await world.deliveryStates();
    const times = receipts.map((r) => r.at);
    const lastAt = Math.max(...times);
    const latency = latencyOf(notifyLatencies(receipts, spec, clock));
    const terminal = latencyOf(
      notifyLatencies(
        receipts.filter((r) => r.type === 'task.succeeded'),
        spec,
        clock,
      ),
    );
    // when the poller saw each change: notify latency = this + the dispatcher's part
    const observations = await world.observations();
    const observed = latencyOf(notifyLatencies(observations, spec, clock));
    // which step of the lifecycle the polling part of the latency comes from
    const observedByStep = Object.fromEntries(
      [...new Set(observations.map((o) => o.message))].sort().map((message) => [
        message,
        latencyOf(
          notifyLatencies(
            observations.filter((o) => o.message === message),
            spec,
            clock,
          ),
        ),
      ]),
    );
    const order = orderCheck(receipts);
    const cpu = after.cpuSeconds - before.cpuSeconds;
    const uxcCalls = uxcAfter.calls - uxcBefore.calls;
    const stateChanges = tasks * eventsAfterStart;
    const figures = {
      tasks,
      subscriptions: items.length,
      registration: registered,
      allTerminalArrived: finished,
      webhooks: receipts.length,
      webhooksPossible: expected,
      deliveries: states,
      burstSeconds: round((lastAt - t0) / 1000, 1),
      peakPerSecond1s: peakRate(times, 1000),
      peakPerSecond5s: peakRate(times, 5000),
      notifyLatency: latency,
      terminalNotifyLatency: terminal,
      observeLatency: observed,
      observeLatencyByStep: observedByStep,
      uxcCalls,
      stateChanges,
      uxcCallsPerStateChange: round(uxcCalls / stateChanges, 2),
      relayCpuSeconds: round(cpu, 2),
      relayCpuSecondsPer1000Webhooks: round((cpu / receipts.length) * 1000, 2),
      relayPeakRssMiB: round(after.peakRssBytes / 2 ** 20),
      ...order,
      pgStatActivitySamples: sampled,
    };
    return {
      title: 'Burst fan-out to one endpoint',
      setup: [
        `${tasks} tasks × ${SUBSCRIPTIONS_PER_TASK} subscriptions, all to one receiver host; each task goes queued (2 queue moves) → running → progress → succeeded, ${spec.stepMs / 1000} s a step, the tasks spread over ${spec.spreadMs / 1000} s`,
        `relay: built dist/src/main.js, POLL_INTERVAL_MS=${env.POLL_INTERVAL_MS}, UXC_RATE_LIMIT=${env.UXC_RATE_LIMIT}, other settings default; fake UXC and receiver in their own processes`,
        'notify latency = receiver receipt time − the moment the fake UXC changed the task; superseded progress events are not sent, so webhooks ≤ possible',
        'seen = when the poller observed the change (task_events.observed_at) − the moment the fake UXC changed the task: the polling part of notify latency',
        'relay CPU from /proc/<pid>/stat over the burst; peak RSS = VmHWM',
        "pg_stat_activity of the scenario's database sampled every 50 ms: which statements the busy backends were running (figures.pgStatActivitySamples)",
      ],
      config: { env, spec, subscriptionsPerTask: SUBSCRIPTIONS_PER_TASK },
      figures,
      rows: [
        {
          case: `${tasks}×${SUBSCRIPTIONS_PER_TASK} to one host`,
          webhooks: `${receipts.length}/${expected}`,
          'peak/s (1 s)': figures.peakPerSecond1s,
          'peak/s (5 s)': figures.peakPerSecond5s,
          'notify p50': `${latency.p50Ms} ms`,
          'notify p95': `${latency.p95Ms} ms`,
          'notify p99': `${latency.p99Ms} ms`,
          'seen p50/p99': `${observed.p50Ms}/${observed.p99Ms} ms`,
          'UXC calls/change': figures.uxcCallsPerStateChange,
          'CPU s/1000': figures.relayCpuSecondsPer1000Webhooks,
          'peak RSS': `${figures.relayPeakRssMiB} MiB`,
        },
      ],
      notes: [
        `target: peak ≥ 2000/s, p99 ≤ ${Number(env.POLL_INTERVAL_MS) + 500} ms; duplicates ${order.duplicates}, out of order ${order.outOfOrder}`,
      ],
    };
  } finally {
    await world.stop();
  }
}

export const name: BenchScenario['name'] = 'burst-fanout';
export const summary: BenchScenario['summary'] =
  '2,000 tasks × 5 subscriptions to one endpoint: peak webhooks/s, notify latency, CPU, RSS';
export { run };
