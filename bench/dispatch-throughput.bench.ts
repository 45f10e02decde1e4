import { newId } from '../src/common/ids';
import { Answer, WebhookReceiver } from '../test/support/receiver';
import type { BenchResult, BenchScenario } from './bench-scenario';
import { startBenchRelay } from './bench-relay';
import { createBenchDatabase } from './bench-database';

/**
 * Delivery throughput and latency of one dispatcher: a real relay
 * (AppModule, DISPATCHER_ENABLED, PostgreSQL) sends signed webhooks to real
 * HTTP receivers on loopback. Each case commits all its deliveries in one
 * transaction and times from that commit to the last 2xx recorded.
 */
const CONCURRENCY = 64;
const PER_HOST = 16;

interface Case {
  label: string;
  /** subscriptions per receiver, one event each */
  receivers: { subscriptions: number; answer: Answer }[];
}

const CASES: Case[] = [
  { label: '2000 to one fast receiver', receivers: [{ subscriptions: 2000, answer: {} }] },
  {
    label: '2000 over 8 receivers answering in 50 ms',
    receivers: Array.from({ length: 8 }, () => ({ subscriptions: 250, answer: { delayMs: 50 } })),
  },
  {
    label: '1000 fast + 200 to a receiver answering in 2 s',
    receivers: [
      { subscriptions: 1000, answer: {} },
      { subscriptions: 200, answer: { delayMs: 2000 } },
    ],
  },
];

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function runCase(c: Case): Promise<Record<string, string | number>> {
  const database = await createBenchDatabase();
  const { app, prisma, outbox, tenant } = await startBenchRelay({
    DATABASE_URL: database.url,
    UXC_BASE_URL: 'http://127.0.0.1:9',
    POLLER_ENABLED: 'false',
    DISPATCHER_ENABLED: 'true',
    DISPATCHER_CONCURRENCY: String(CONCURRENCY),
    DISPATCHER_PER_HOST_CONCURRENCY: String(PER_HOST),
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_TIMEOUT_MS: '10000',
  });
  const receivers = await Promise.all(
    c.receivers.map((r) => WebhookReceiver.start({ answer: r.answer })),
  );
  try {
    const total = c.receivers.reduce((sum, r) => sum + r.subscriptions, 0);
    await prisma.$transaction(
      async (tx) => {
        for (const [r, spec] of c.receivers.entries()) {
          for (let i = 0; i < spec.subscriptions; i++) {
            const sid = `BT|bench-${r}-${i}`;
            const task = await tx.task.update({
              where: { id: (await outbox.track(tx, tenant.id, sid)).id },
              data: { state: 'queued', status: 100, sequence: 1 },
            });
            await tx.subscription.create({
              data: {
                id: newId('sub'),
                tenantId: tenant.id,
                taskId: task.id,
                sid,
                callbackUrl: receivers[r].url(`/bench-${i}`),
              },
            });
            const event = await tx.taskEvent.create({
              data: {
                taskId: task.id,
                sequence: 1,
                type: 'task.queued',
                state: 'queued',
                status: 100,
              },
            });
            await outbox.enqueueForEvent(tx, task, event);
          }
        }
      },
      { timeout: 120_000 },
    );
    // a production deliveries table has planner statistics (autovacuum
    // gathers them within a minute of a burst like this one); a brand-new
    // table has none, and would measure the planner's guesswork instead
    await prisma.$executeRawUnsafe('ANALYZE');
    const committed = Date.now();
    while ((await prisma.delivery.count({ where: { state: 'pending' } })) > 0) await sleep(20);
    const elapsedMs = Date.now() - committed;
    const succeeded = await prisma.delivery.count({ where: { state: 'succeeded' } });
    const fast = receivers[0].requests.map((request) => request.at - committed);
    const all = receivers.flatMap((r) => r.requests.map((request) => request.at - committed));
    return {
      case: c.label,
      deliveries: `${succeeded}/${total}`,
      'wall time': `${(elapsedMs / 1000).toFixed(2)} s`,
      'deliveries/s': Math.round(succeeded / (elapsedMs / 1000)),
      'arrival p50 (all)': `${percentile(all, 50)} ms`,
      'arrival p95 (all)': `${percentile(all, 95)} ms`,
      'first receiver done after': `${Math.max(...fast)} ms`,
      'max in flight per receiver': receivers.map((r) => r.maxConcurrent).join('/'),
    };
  } finally {
    await Promise.all(receivers.map((r) => r.close()));
    await app.close();
    await database.drop();
  }
}

async function run(): Promise<BenchResult> {
  const rows = [];
  for (const c of CASES) rows.push(await runCase(c));
  return {
    title: 'Dispatch throughput: signed webhooks to loopback receivers',
    setup: [
      'a real relay (AppModule, one dispatcher, PostgreSQL) sending to real HTTP receivers on 127.0.0.1; one event per subscription',
      `DISPATCHER_CONCURRENCY=${CONCURRENCY}, DISPATCHER_PER_HOST_CONCURRENCY=${PER_HOST}; every delivery committed in one transaction, timed from that commit to the last 2xx recorded`,
      '"arrival" = when a receiver had the request, counted from the commit',
    ],
    rows,
    notes: [
      'In the last case the slow receiver is held at the per-host cap, so the fast one finishes long before it: one slow endpoint does not starve the others.',
    ],
  };
}

export const name: BenchScenario['name'] = 'dispatch throughput';
export { run };
