import type { BenchContext, BenchResult, BenchScenario } from './bench-scenario';
import type { FakeUxcClock, FakeUxcStats } from './peers/fake-uxc';
import type { HandPollRun, Sighting } from './peers/hand-poller';
import type { Receipt } from './peers/receiver';
import { latencyOf, notifyLatencies, waitFor } from './support/analysis';
import { round } from './support/http';
import { Peer } from './support/peer';
import { PlanSpec, sidOf } from './support/plans';
import { BENCH_UXC } from './support/relay';
import { subscribeAll } from './support/subscribe';
import { World } from './support/world';

/**
 * The same lifecycle mix two ways, at the same time, each against its own
 * fake UXC: every client polling its own sid once a second by hand, and one
 * subscription per sid through the relay. UXC calls are counted at each fake
 * UXC from the start of the lifecycles to the last terminal state.
 */
async function run(context: BenchContext): Promise<BenchResult> {
  const tasks = context.size(500, 100);
  const spec: PlanSpec = context.quick
    ? {
        kind: 'mix',
        maxDepth: 12,
        minRunMs: 2_000,
        maxRunMs: 9_000,
        positionMs: 500,
        progressEveryMs: 2_000,
        startSpreadMs: 5_000,
      }
    : {
        kind: 'mix',
        maxDepth: 200,
        minRunMs: 10_000,
        maxRunMs: 90_000,
        positionMs: 1_000,
        progressEveryMs: 10_000,
        startSpreadMs: 10_000,
      };
  const env = {
    POLL_INTERVAL_MS: '1000',
    // the comparison is of cadence, not of the per-credential cap
    UXC_RATE_LIMIT: '1000',
  };
  const longest = spec.startSpreadMs + (spec.maxDepth + 1) * spec.positionMs + spec.maxRunMs;
  const world = await World.start(context, { spec, hosts: 1 });
  const hand = await Peer.start<{ url: string }>('fake-uxc', { spec, ...BENCH_UXC });
  const poller = await Peer.start('hand-poller', {});
  try {
    await world.startRelay(env);
    const prefix = `mix${Date.now()}`;
    const items = Array.from({ length: tasks }, (_, i) => ({
      sid: sidOf(prefix, i),
      callbackUrl: world.callbackUrl(0, `/hooks/${i}`),
    }));
    await subscribeAll(world.api!, items);
    await waitFor(
      'the first event of every subscription',
      async () => (await world.counts()).received >= tasks,
      60_000,
    );
    await world.resetReceiver();
    const relayBefore = await world.uxcStats();
    const handBefore = await hand.peer.call<FakeUxcStats>('stats', {});
    await world.go(0);
    await hand.peer.call('go', { delayMs: 0 });
    context.log(`lifecycles started; the longest ends after ${longest / 1000} s`);
    const handRun = poller.peer.call<{ sightings: Sighting[]; finished: number }>('run', {
      url: hand.ready.url,
      ...BENCH_UXC,
      prefix,
      tasks,
      everyMs: 1000,
      maxMs: longest + 60_000,
    } satisfies HandPollRun);
    const relayDone = await waitFor(
      'every terminal webhook',
      async () => ((await world.counts()).byType['task.succeeded'] ?? 0) >= tasks,
      longest + 60_000,
      500,
    );
    const handResult = await handRun;
    const relayAfter = await world.uxcStats();
    const handAfter = await hand.peer.call<FakeUxcStats>('stats', {});
    const receipts = await world.receipts();
    const relayLatency = latencyOf(notifyLatencies(receipts, spec, await world.clock()));
    const handClock = await hand.peer.call<FakeUxcClock>('clock');
    const seen = handResult.sightings.map(
      (s) => ({ sid: sidOf(prefix, s.index), message: s.message, at: s.at }) as Receipt,
    );
    const handLatency = latencyOf(notifyLatencies(seen, spec, handClock));
    const relayCalls = relayAfter.calls - relayBefore.calls;
    const handCalls = handAfter.calls - handBefore.calls;
    const figures = {
      tasks,
      relay: {
        uxcCalls: relayCalls,
        notifyLatency: relayLatency,
        webhooks: receipts.length,
        allTerminal: relayDone,
      },
      byHand: {
        uxcCalls: handCalls,
        notifyLatency: handLatency,
        sightings: seen.length,
        finished: handResult.finished,
      },
      callRatio: round(relayCalls / handCalls, 3),
    };
    return {
      title: 'Against polling by hand',
      setup: [
        `${tasks} tasks, each with a queue depth of 0–${spec.maxDepth} (one place every ${spec.positionMs / 1000} s) and a run time of ${spec.minRunMs / 1000}–${spec.maxRunMs / 1000} s (progress every ${spec.progressEveryMs / 1000} s), starting over ${spec.startSpreadMs / 1000} s`,
        'by hand: one client per sid asking its own fake UXC every second until the terminal state; latency = when the client first saw a change − when it happened',
        `through the relay: one subscription per sid, POLL_INTERVAL_MS=${env.POLL_INTERVAL_MS}, UXC_RATE_LIMIT=${env.UXC_RATE_LIMIT}; latency = webhook receipt − the change`,
        'both run at once, each against its own fake UXC, which counts the calls from the start of the lifecycles',
      ],
      config: { env, spec },
      figures,
      rows: [
        {
          way: 'polling by hand every 1 s',
          'UXC calls': handCalls,
          'notify p50': `${handLatency.p50Ms} ms`,
          'notify p99': `${handLatency.p99Ms} ms`,
        },
        {
          way: 'through the relay',
          'UXC calls': relayCalls,
          'notify p50': `${relayLatency.p50Ms} ms`,
          'notify p99': `${relayLatency.p99Ms} ms`,
        },
        { way: 'ratio relay ÷ by hand', 'UXC calls': figures.callRatio },
      ],
      notes: ['target: ≤ 0.25× the UXC calls, with p99 notify no worse than polling every second'],
    };
  } finally {
    await poller.peer.stop();
    await hand.peer.stop();
    await world.stop();
  }
}

export const name: BenchScenario['name'] = 'vs-hand-polling';
export const summary: BenchScenario['summary'] =
  'one lifecycle mix polled by hand every second and through the relay: UXC calls and notify latency';
export { run };
