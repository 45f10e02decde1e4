import type { BenchContext, BenchResult, BenchScenario } from './bench-scenario';
import type { WireLoopResult } from './peers/wire-loop';
import { orderCheck, peakRate, sleep, waitFor } from './support/analysis';
import { DbSampler } from './support/db-sampler';
import { round } from './support/http';
import { Peer } from './support/peer';
import { sidOf } from './support/plans';
import { metricValue } from './support/relay';
import { subscribeAll } from './support/subscribe';
import { World } from './support/world';

/**
 * A backlog of pending deliveries drained against the wire: the relay first
 * runs with its dispatcher off until its poller has written every delivery
 * (each task goes queued → running → succeeded: three state changes, none
 * superseded), then again with the poller off and the dispatcher on, into
 * tables that never saw ANALYZE. The same run then measures the wire: a plain
 * keep-alive loop posting signed bodies at the concurrency the relay used.
 */
const SUBSCRIPTIONS_PER_TASK = 5;
const EVENTS = 3;

interface DrainCase {
  label: string;
  hosts: number;
}

async function countDeliveries(world: World): Promise<number> {
  const client = await world.database.connect();
  try {
    return Number((await client.query('SELECT count(*) AS n FROM deliveries')).rows[0].n);
  } finally {
    await client.end();
  }
}

async function preload(
  context: BenchContext,
  world: World,
  c: DrainCase,
  tasks: number,
): Promise<Record<string, unknown>> {
  await world.startRelay({
    DISPATCHER_ENABLED: 'false',
    POLL_INTERVAL_MS: '1000',
    UXC_RATE_LIMIT: '10000',
  });
  const prefix = `drain${Date.now()}`;
  const items = [];
  for (let t = 0; t < tasks; t++)
    for (let s = 0; s < SUBSCRIPTIONS_PER_TASK; s++) {
      const host = (t * SUBSCRIPTIONS_PER_TASK + s) % c.hosts;
      items.push({ sid: sidOf(prefix, t), callbackUrl: world.callbackUrl(host, `/hooks/${s}`) });
    }
  const registered = await subscribeAll(world.api!, items);
  context.log(`${c.label}: ${items.length} subscriptions in ${registered.seconds.toFixed(1)} s`);
  const started = Date.now();
  for (let phase = 0; phase < EVENTS; phase++) {
    if (phase > 0) await world.phase(phase);
    await waitFor(
      `deliveries of phase ${phase}`,
      async () => (await countDeliveries(world)) >= items.length * (phase + 1),
      context.size(900_000, 120_000),
      500,
    );
  }
  // the poller may still be writing its last batch: the count must stand still
  await sleep(1500);
  await world.stopRelay();
  const pending = (await world.deliveryStates()).pending ?? 0;
  context.log(
    `${c.label}: ${pending} pending deliveries written in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return { subscriptions: items.length, registration: registered, pending };
}

async function drainCase(context: BenchContext, c: DrainCase): Promise<Record<string, unknown>> {
  const tasks = Math.ceil(context.size(50_000, 5_000) / (SUBSCRIPTIONS_PER_TASK * EVENTS));
  const world = await World.start(context, { spec: { kind: 'phased' }, hosts: c.hosts });
  try {
    const loaded = await preload(context, world, c, tasks);
    const pending = loaded.pending as number;
    await world.resetReceiver();
    const relay = await world.startRelay({ POLLER_ENABLED: 'false', DISPATCHER_ENABLED: 'true' });
    const before = relay.usage();
    const sampler = new DbSampler(await world.database.connect());
    sampler.start();
    let maxInFlight = 0;
    const done = await waitFor(
      'the backlog to drain',
      async () => {
        const inFlight = metricValue(await relay.metrics(), 'uxc_relay_webhook_in_flight');
        maxInFlight = Math.max(maxInFlight, inFlight ?? 0);
        return (await world.counts()).received >= pending;
      },
      context.size(900_000, 30_000),
      200,
    );
    const after = relay.usage();
    const sampled = await sampler.stop();
    const counts = await world.counts();
    const receipts = await world.receipts();
    const order = orderCheck(receipts);
    await world.stopRelay();
    const seconds = ((counts.lastAt ?? 0) - (counts.firstAt ?? 0)) / 1000;
    const drainPerSecond = seconds > 0 ? Math.round(counts.received / seconds) : 0;
    const connections = counts.connectionsPerHost.slice(0, c.hosts);

    // the ceiling: same receivers, same number of requests open, no database
    const perHost = Math.max(1, Math.ceil(maxInFlight / c.hosts));
    await world.resetReceiver(false);
    const { peer } = await Peer.start('wire-loop', {});
    let wire: WireLoopResult;
    try {
      wire = await peer.call<WireLoopResult>('run', {
        ports: world.ports.slice(0, c.hosts),
        perHost,
        count: pending,
        maxMs: 15_000,
      });
    } finally {
      await peer.stop();
    }
    return {
      case: c.label,
      hosts: c.hosts,
      ...loaded,
      drained: counts.received,
      drainedAll: done,
      drainSeconds: round(seconds, 1),
      drainPerSecond,
      peakPerSecond5s: peakRate(
        receipts.map((r) => r.at),
        5000,
      ),
      relayCpuSeconds: round(after.cpuSeconds - before.cpuSeconds, 1),
      relayCpuMsPerDelivery: round(
        ((after.cpuSeconds - before.cpuSeconds) / counts.received) * 1000,
        2,
      ),
      relayPeakRssMiB: round(after.peakRssBytes / 2 ** 20),
      relayMaxInFlight: maxInFlight,
      relayConnectionsPerHost: connections,
      wireConcurrencyPerHost: perHost,
      wire,
      ratio: wire.perSecond > 0 ? round(drainPerSecond / wire.perSecond, 3) : null,
      ...order,
      pgStatActivitySamples: sampled,
    };
  } finally {
    await world.stop();
  }
}

async function run(context: BenchContext): Promise<BenchResult> {
  const cases: DrainCase[] = [
    { label: 'one host', hosts: 1 },
    { label: '20 hosts', hosts: 20 },
  ];
  const results = [];
  for (const c of cases) results.push(await drainCase(context, c));
  return {
    title: 'Drain against the wire',
    setup: [
      `${context.size('50,000', '5,000')} pending deliveries (tasks × ${SUBSCRIPTIONS_PER_TASK} subscriptions × ${EVENTS} state changes) written by the relay's own poller with DISPATCHER_ENABLED=false, into a fresh database (no ANALYZE, no VACUUM)`,
      'then the relay restarted with POLLER_ENABLED=false and the dispatcher at its defaults; drain rate = webhooks ÷ (last receipt − first receipt) at the receivers',
      'wire ceiling: a keep-alive node:http loop (no database) posting signed bodies of the same shape to the same receivers, with the most requests the relay had in flight (its in-flight gauge) spread over the same hosts',
      'callback host:port is the host key: 20 receiver ports are 20 hosts',
    ],
    config: { subscriptionsPerTask: SUBSCRIPTIONS_PER_TASK, events: EVENTS, cases },
    figures: { cases: results },
    rows: results.map((r) => ({
      case: String(r.case),
      deliveries: `${r.drained}/${r.pending}`,
      'drain/s': Number(r.drainPerSecond),
      'wire/s': (r.wire as WireLoopResult).perSecond,
      ratio: String(r.ratio),
      'in flight': Number(r.relayMaxInFlight),
      'CPU ms/delivery': Number(r.relayCpuMsPerDelivery),
      'peak RSS': `${r.relayPeakRssMiB} MiB`,
    })),
    notes: ['targets: one host ≥ 0.3 of the wire, 20 hosts ≥ 0.4'],
  };
}

export const name: BenchScenario['name'] = 'drain';
export const summary: BenchScenario['summary'] =
  '50,000 pending deliveries in fresh tables drained to one host, then 20, against a keep-alive loop';
export { run };
