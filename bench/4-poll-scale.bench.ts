import type { BenchContext, BenchResult, BenchScenario } from './bench-scenario';
import { latencyOf, sleep, waitFor } from './support/analysis';
import { DbSampler } from './support/db-sampler';
import { dbTime, dbTimeDelta, resetStatements, topStatements } from './support/db-time';
import { round } from './support/http';
import { sidOf } from './support/plans';
import { subscribeAll } from './support/subscribe';
import { World } from './support/world';

/**
 * Many tracked tasks at once: most waiting at spread queue positions, some
 * running, all under one credential's UXC_RATE_LIMIT. The fake UXC sees how
 * long each running task waits between two polls.
 */
async function run(context: BenchContext): Promise<BenchResult> {
  // quick runs a twenty-fifth: the first polls of every task, at most the
  // credential's 200/s, take tasks ÷ 200 seconds before the window can begin
  const tasks = context.size(100_000, 4_000);
  const running = context.size(1_000, 40);
  const windowMs = context.size(60_000, 10_000);
  const spec = { kind: 'static' as const, running, maxQueueNum: 300 };
  const env = { UXC_RATE_LIMIT: '200' };
  const world = await World.start(context, { spec, hosts: 1 });
  try {
    const relay = await world.startRelay(env);
    const prefix = `scale${Date.now()}`;
    // the running tasks first; only their terminal event would be sent, and none comes
    const items = Array.from({ length: tasks }, (_, i) => ({
      sid: sidOf(prefix, i),
      callbackUrl: world.callbackUrl(0, `/hooks/${i % 100}`),
      events: ['task.succeeded'],
    }));
    context.log(`registering ${tasks} tasks`);
    const registered = await subscribeAll(world.api!, items);
    context.log(
      `registered in ${registered.seconds.toFixed(0)} s (${registered.via}); measuring ${windowMs / 1000} s`,
    );
    // steady state: every task polled once (a new task's first poll comes before any other)
    const settled = Date.now();
    const steady = await waitFor(
      'every task polled once',
      async () => (await world.uxcStats()).tasksSeen >= tasks,
      context.size(600_000, 60_000),
      1000,
    );
    const settleSeconds = round((Date.now() - settled) / 1000);
    const client = await world.database.connect();
    try {
      await resetStatements(client);
      const statsBefore = await world.uxcStats(true);
      const seenBefore = statsBefore.tasksSeen;
      const dbBefore = await dbTime(client);
      const usageBefore = relay.usage();
      const callsBefore = statsBefore.calls;
      const sampler = new DbSampler(await world.database.connect());
      sampler.start();
      await sleep(windowMs);
      const sampled = await sampler.stop();
      const stats = await world.uxcStats(true);
      const usageAfter = relay.usage();
      // the statistics collector hears from busy backends about once a second
      await sleep(1200);
      const db = dbTimeDelta(dbBefore, await dbTime(client));
      const statements = await topStatements(client);
      const seconds = windowMs / 1000;
      const gaps = latencyOf(stats.runningGaps);
      const calls = stats.calls - callsBefore;
      const ticks = seconds / 0.25;
      const figures = {
        tasks,
        running,
        registration: registered,
        tasksPolledAtLeastOnce: { atWindowStart: seenBefore, atWindowEnd: stats.tasksSeen },
        windowSeconds: seconds,
        uxcCallsPerSecond: round(calls / seconds),
        runningPollGap: gaps,
        runningPollsPerSecond: round((stats.runningCalls - statsBefore.runningCalls) / seconds),
        steadyState: steady,
        secondsUntilEveryTaskPolled: settleSeconds,
        database: db,
        databaseMsPerSecond: round(db.activeMs / seconds),
        databaseMsPerTick: round(db.activeMs / ticks, 1),
        databaseMsPerUxcCall: calls > 0 ? round(db.activeMs / calls, 2) : null,
        pgStatStatements: statements,
        pgStatActivitySamples: sampled,
        relayCpuSecondsPerSecond: round(
          (usageAfter.cpuSeconds - usageBefore.cpuSeconds) / seconds,
          2,
        ),
        relayRssMiB: round(usageAfter.rssBytes / 2 ** 20),
        relayPeakRssMiB: round(usageAfter.peakRssBytes / 2 ** 20),
      };
      return {
        title: 'Poll scale',
        setup: [
          `${tasks} tracked tasks (one subscription each, registered through the API), ${running} of them running, the rest queued at positions 1–${spec.maxQueueNum}; UXC_RATE_LIMIT=${env.UXC_RATE_LIMIT}, POLL_INTERVAL_MS and POLL_MAX_INTERVAL_MS at their defaults (2000/30000)`,
          `measured over ${seconds} s once every task had been polled once (or after ${context.size(600, 60)} s of waiting for it): the fake UXC records the gap between two calls of each running sid; the first gap of each sid in the window reaches back before it`,
          "database time = pg_stat_database.active_time of the scenario's own database (pg_stat_statements when it is preloaded); a tick is the poller's 250 ms",
          "pg_stat_activity of the scenario's database sampled every 50 ms: which statements the busy backends were running (figures.pgStatActivitySamples)",
        ],
        config: { env, spec, windowMs },
        figures,
        rows: [
          {
            case: `${tasks} tasks, ${running} running`,
            'UXC calls/s': figures.uxcCallsPerSecond,
            'running gap p50': `${gaps.p50Ms} ms`,
            'running gap p99': `${gaps.p99Ms} ms`,
            'running polls/s': figures.runningPollsPerSecond,
            'DB ms/tick': figures.databaseMsPerTick,
            'relay CPU s/s': figures.relayCpuSecondsPerSecond,
            RSS: `${figures.relayRssMiB} MiB`,
          },
        ],
        notes: [
          `${running} running tasks at a 2 s cadence alone ask ${running / 2} calls/s of a ${env.UXC_RATE_LIMIT}/s credential; running lag = gap − 2000 ms`,
        ],
      };
    } finally {
      await client.end();
    }
  } finally {
    await world.stop();
  }
}

export const name: BenchScenario['name'] = 'poll-scale';
export const summary: BenchScenario['summary'] =
  '100,000 tracked tasks, 1,000 running, UXC_RATE_LIMIT=200: running poll lag, database time per tick, RSS';
export { run };
