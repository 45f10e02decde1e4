import type { Client } from 'pg';
import type { BenchContext, BenchResult, BenchScenario } from './bench-scenario';
import { latencyOf, sleep, waitFor } from './support/analysis';
import { CapturedStatement, ClaimProbe } from './support/claim-probe';
import { round } from './support/http';
import { sidOf } from './support/plans';
import { subscribeAll } from './support/subscribe';
import { World } from './support/world';

/**
 * The dispatcher's claim against a growing backlog of pending deliveries,
 * written by the relay's own poller with the dispatcher off (as in the drain
 * scenario) into tables that never saw a manual ANALYZE. At each size the
 * claim runs on its own, as the dispatcher calls it, and its statement is
 * EXPLAINed (ANALYZE, BUFFERS) inside a transaction that is rolled back.
 */
const SUBSCRIPTIONS_PER_TASK = 5;
const EVENTS = 3;
const HOSTS = 20;
/** lanes one claim asks for, spread evenly over the due hosts (the dispatcher asks up to 200 a host) */
const LIMIT = 200;
const CLAIMS = 15;

async function count(client: Client): Promise<number> {
  const { rows } = await client.query(
    "SELECT count(*) AS n FROM deliveries WHERE state = 'pending'",
  );
  return Number(rows[0].n);
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

/** Rows each table's scans touched (returned by the scan plus removed by its filter), summed over loops. */
function rowsRead(node: PlanNode, into: Record<string, number> = {}): Record<string, number> {
  if (node['Relation Name']) {
    const key = `${node['Relation Name']} (${node['Node Type']}${node['Index Name'] ? ` ${node['Index Name']}` : ''})`;
    into[key] =
      (into[key] ?? 0) +
      (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops'];
  }
  for (const child of node.Plans ?? []) rowsRead(child, into);
  return into;
}

async function explain(
  client: Client,
  statement: CapturedStatement,
): Promise<Record<string, unknown>> {
  // the relay's pool runs with jit=off (src/database/database-pool.ts): read the plan as it runs there
  await client.query('SET jit = off');
  await client.query('BEGIN');
  try {
    const json = await client.query(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement.text}`,
      statement.values,
    );
    await client.query('ROLLBACK');
    await client.query('BEGIN');
    const text = await client.query(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
      statement.values,
    );
    const root = (
      json.rows[0]['QUERY PLAN'] as {
        Plan: PlanNode;
        'Planning Time': number;
        'Execution Time': number;
      }[]
    )[0];
    return {
      planningMs: round(root['Planning Time'], 2),
      executionMs: round(root['Execution Time'], 2),
      rowsReturned: root.Plan['Actual Rows'],
      sharedBlocks: (root.Plan['Shared Hit Blocks'] ?? 0) + (root.Plan['Shared Read Blocks'] ?? 0),
      rowsReadByScan: rowsRead(root.Plan),
      plan: text.rows.map((row: Record<string, string>) => row['QUERY PLAN']),
    };
  } finally {
    await client.query('ROLLBACK');
  }
}

async function run(context: BenchContext): Promise<BenchResult> {
  const levels = context.size([1_000, 10_000, 100_000], [100, 1_000, 10_000]);
  const world = await World.start(context, { spec: { kind: 'phased' }, hosts: HOSTS });
  const client = await world.database.connect();
  const prefix = `claim${Date.now()}`;
  const results: Record<string, unknown>[] = [];
  let tasks = 0;
  try {
    for (const level of levels) {
      // more tasks until the backlog reaches this level, each task's deliveries written by the poller
      const have = tasks === 0 ? 0 : await count(client);
      const more = Math.ceil((level - have) / (SUBSCRIPTIONS_PER_TASK * EVENTS));
      if (more > 0) {
        await world.startRelay({
          DISPATCHER_ENABLED: 'false',
          POLL_INTERVAL_MS: '1000',
          UXC_RATE_LIMIT: '10000',
        });
        const from = tasks;
        const items = [];
        for (let t = from; t < from + more; t++)
          for (let s = 0; s < SUBSCRIPTIONS_PER_TASK; s++)
            items.push({
              sid: sidOf(prefix, t),
              callbackUrl: world.callbackUrl(
                (t * SUBSCRIPTIONS_PER_TASK + s) % HOSTS,
                `/hooks/${s}`,
              ),
            });
        tasks += more;
        const before = have;
        await subscribeAll(world.api!, items);
        for (let phase = 0; phase < EVENTS; phase++) {
          if (phase > 0) await world.phase(phase, from, tasks - 1);
          await waitFor(
            `deliveries of phase ${phase}`,
            async () => (await count(client)) >= before + items.length * (phase + 1),
            context.size(1_800_000, 120_000),
            500,
          );
        }
        await sleep(1000);
        await world.stopRelay();
      }
      const pending = await count(client);
      const stats = await client.query(
        "SELECT last_autoanalyze, n_live_tup FROM pg_stat_user_tables WHERE relname = 'deliveries'",
      );
      context.log(`${pending} pending: claiming`);
      const probe = await ClaimProbe.open(world.database.url);
      try {
        const calls = [];
        for (let i = 0; i < CLAIMS; i++) calls.push(await probe.claim(LIMIT));
        const timing = latencyOf(calls.map((c) => c.ms));
        const plans = [];
        for (const statement of calls[0].statements.filter((s) =>
          /^\s*(WITH|SELECT|UPDATE)/i.test(s.text),
        ))
          plans.push(await explain(client, statement));
        results.push({
          pending,
          claimed: calls.map((c) => c.claimed),
          claimMs: { min: round(Math.min(...calls.map((c) => c.ms)), 1), ...timing },
          hostsMs: latencyOf(calls.map((c) => c.hostsMs)),
          statementsPerClaim: calls[0].statements.length,
          autoAnalyzedAt: stats.rows[0]?.last_autoanalyze ?? null,
          plans,
        });
      } finally {
        await probe.close();
      }
    }
  } finally {
    await client.end();
    await world.stop();
  }
  const first = results[0].claimMs as { p50Ms: number };
  const last = results[results.length - 1].claimMs as { p50Ms: number };
  return {
    title: 'Claim cost against backlog',
    setup: [
      `backlogs of ${levels.join(', ')} pending deliveries over ${HOSTS} hosts, written by the relay's poller with the dispatcher off (tasks × ${SUBSCRIPTIONS_PER_TASK} subscriptions × ${EVENTS} state changes); no manual ANALYZE (autovacuum may run, and its last analyze is recorded)`,
      `the claim called ${CLAIMS} times per size as the dispatcher makes it (DeliveryStore.lease of ${LIMIT} lanes spread over the due hosts, then DeliveryStore.heads), its leases given back after each; the relay process stopped meanwhile; "hosts" is the discovery query before it`,
      'its SQL captured at the pg driver and EXPLAINed (ANALYZE, BUFFERS) in a rolled-back transaction, with jit=off as on the relay pool: rows read by each scan against rows returned',
    ],
    config: { levels, hosts: HOSTS, limit: LIMIT, claims: CLAIMS },
    figures: { levels: results, growth: round(last.p50Ms / Math.max(first.p50Ms, 0.001), 2) },
    rows: results.map((r) => {
      const timing = r.claimMs as { p50Ms: number; p95Ms: number };
      const plans = r.plans as {
        executionMs: number;
        sharedBlocks: number;
        rowsReadByScan: Record<string, number>;
      }[];
      const sum = (pick: (p: (typeof plans)[number]) => number): number =>
        round(
          plans.reduce((total, p) => total + pick(p), 0),
          2,
        );
      return {
        pending: Number(r.pending),
        claimed: (r.claimed as number[])[0],
        'claim p50': `${timing.p50Ms} ms`,
        'claim p95': `${timing.p95Ms} ms`,
        'hosts p50': `${(r.hostsMs as { p50Ms: number }).p50Ms} ms`,
        statements: plans.length,
        'EXPLAIN exec (all)': `${sum((p) => p.executionMs)} ms`,
        'rows read (all scans)': sum((p) =>
          Object.values(p.rowsReadByScan).reduce((total, v) => total + v, 0),
        ),
        'shared blocks': sum((p) => p.sharedBlocks),
      };
    }),
    notes: [
      `target: claim p50 within 2× from the smallest to the largest backlog (here ${round(last.p50Ms / Math.max(first.p50Ms, 0.001), 2)}×)`,
    ],
  };
}

export const name: BenchScenario['name'] = 'claim-cost';
export const summary: BenchScenario['summary'] =
  "the dispatcher's claim at 1k, 10k and 100k pending, with its EXPLAIN (ANALYZE, BUFFERS) plan";
export { run };
