import type { BenchContext, BenchResult, BenchScenario } from './bench-scenario';
import { load, LoadResult } from './support/http';
import { sidOf } from './support/plans';
import { hasBatchRoute } from './support/subscribe';
import { World } from './support/world';

/**
 * The REST API under load from N parallel keep-alive clients in the bench
 * process, with the relay's poller and dispatcher running as in production
 * (each new sid is polled, its first event delivered to a receiver).
 */
const CLIENTS = 32;
const BATCH_CLIENTS = 4;
const BATCH_SIZE = 500;

function row(
  label: string,
  result: LoadResult | null,
  unit = 'requests',
): Record<string, string | number> {
  if (result === null) return { route: label, requests: 'route absent' };
  return {
    route: label,
    [unit]: result.requests,
    errors: result.errors,
    'per second': result.perSecond,
    p50: `${result.p50Ms} ms`,
    p99: `${result.p99Ms} ms`,
  };
}

async function run(context: BenchContext): Promise<BenchResult> {
  const world = await World.start(context, {
    spec: { kind: 'static', running: 0, maxQueueNum: 50 },
    hosts: 1,
  });
  try {
    await world.startRelay({});
    const api = world.api!;
    const prefix = `api${Date.now()}`;
    const callbackUrl = world.callbackUrl(0, '/hooks');
    const maxMs = context.size(30_000, 5_000);

    context.log('POST /v1/subscriptions, a new sid each');
    const single = await load(CLIENTS, context.size(20_000, 2_000), maxMs, async (i) => {
      const answer = await api.call('POST', '/v1/subscriptions', {
        sid: sidOf(prefix, i),
        callbackUrl,
      });
      return answer.status;
    });
    const sids = single.requests;

    let batch: LoadResult | null = null;
    let batchItemsPerSecond: number | null = null;
    if (await hasBatchRoute(api)) {
      context.log(`POST /v1/subscriptions/batch, ${BATCH_SIZE} new sids each`);
      const base = 1_000_000;
      batch = await load(BATCH_CLIENTS, context.size(40, 8), maxMs, async (i) => {
        const items = Array.from({ length: BATCH_SIZE }, (_, k) => ({
          sid: sidOf(prefix, base + i * BATCH_SIZE + k),
          callbackUrl,
        }));
        return (await api.call('POST', '/v1/subscriptions/batch', { items })).status;
      });
      batchItemsPerSecond = Math.round((batch.requests * BATCH_SIZE) / batch.seconds);
    }

    context.log('GET /v1/tasks/:sid');
    const get = await load(CLIENTS, context.size(100_000, 5_000), maxMs, async (i) => {
      const sid = encodeURIComponent(sidOf(prefix, i % Math.max(1, sids)));
      return (await api.call('GET', `/v1/tasks/${sid}`)).status;
    });
    const usage = world.relay!.usage();

    const figures = {
      postSubscription: single,
      postBatch: batch,
      batchSubscriptionsPerSecond: batchItemsPerSecond,
      getTask: get,
      relayPeakRssMiB: Math.round(usage.peakRssBytes / 2 ** 20),
    };
    return {
      title: 'REST API',
      setup: [
        `${CLIENTS} parallel keep-alive clients (node:http Agent) in the bench process, each sending its next request when the last is answered, for at most ${maxMs / 1000} s or a fixed count per route`,
        'relay: built dist/src/main.js with its poller and dispatcher on, API_RATE_LIMIT raised out of the way; every POST is a new sid (so a new task)',
        `batch: ${BATCH_CLIENTS} clients × ${BATCH_SIZE} items a request; GET reads the sids the single POSTs created`,
      ],
      config: { clients: CLIENTS, batchClients: BATCH_CLIENTS, batchSize: BATCH_SIZE, maxMs },
      figures,
      rows: [
        row('POST /v1/subscriptions', single),
        {
          ...row('POST /v1/subscriptions/batch', batch),
          ...(batchItemsPerSecond === null ? {} : { 'subscriptions/s': batchItemsPerSecond }),
        },
        row('GET /v1/tasks/:sid', get),
      ],
      notes: ['targets: single POST ≥ 1500/s with p99 < 50 ms; GET ≥ 4000/s'],
    };
  } finally {
    await world.stop();
  }
}

export const name: BenchScenario['name'] = 'api';
export const summary: BenchScenario['summary'] =
  'POST /v1/subscriptions, the batch route and GET /v1/tasks/:sid: requests/s and p99';
export { run };
