import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import { quantile } from '../../bench/support/http';
import { drained, ledgerFigures, reckon } from './support/ledger';
import { onStage } from './support/stage';

export const name = '7-soak';
export const summary =
  'steady load for the --soak duration: memory at start and end does not grow without bound, latency percentiles per 5 minutes';
export const short = false;
export const soakOnly = true;

const WINDOW_MS = 5 * 60_000;
/** tasks started every second */
const TASKS_PER_SECOND = 5;
/** the resident set after the warm-up may grow this much by the end, no more */
const MEMORY_GROWTH = 1.5;

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  const soakMs = context.soakMs ?? 0;
  return onStage(context, { database: 'machine' }, async (stage) => {
    const relay = await stage.startRelay();
    const memory: { atS: number; rssMiB: number }[] = [];
    const began = Date.now();
    const sample = (): void => {
      memory.push({
        atS: Math.round((Date.now() - began) / 1000),
        rssMiB: Math.round(relay.usage().rssBytes / 2 ** 20),
      });
    };
    sample();
    let batch = 0;
    while (Date.now() - began < soakMs) {
      const tasks = await stage.scriptTasks(`soak-${batch++}`, TASKS_PER_SECOND);
      await stage.subscribe(tasks, ['/soak']);
      if (batch % 60 === 0) {
        sample();
        context.log(
          `${batch * TASKS_PER_SECOND} tasks so far, relay RSS ${memory[memory.length - 1].rssMiB} MiB`,
        );
      }
      await new Promise((done) => setTimeout(done, 1000));
    }
    const done = await drained(stage.database, 300_000);
    sample();
    const ledger = await reckon(stage.database, stage.receiver.requests, stage.signingSecret);
    const observed = new Map(
      (
        await stage.database.query<{
          subscription_id: string;
          sequence: number;
          observed_at: Date;
        }>(
          `SELECT s.id AS subscription_id, e.sequence, e.observed_at
             FROM task_events e JOIN subscriptions s ON s.task_id = e.task_id`,
        )
      ).map((row) => [`${row.subscription_id}#${row.sequence}`, row.observed_at.getTime()]),
    );
    const windows: Record<string, number[]> = {};
    for (const receipt of ledger.receipts) {
      const at = observed.get(`${receipt.subscriptionId}#${receipt.sequence}`);
      if (at === undefined) continue;
      const window = `${Math.floor((receipt.at - began) / WINDOW_MS) * 5}-${Math.floor((receipt.at - began) / WINDOW_MS) * 5 + 5} min`;
      (windows[window] ??= []).push(receipt.at - at);
    }
    const latency = Object.entries(windows).map(([window, values]) => {
      values.sort((a, b) => a - b);
      return {
        window,
        webhooks: values.length,
        p50Ms: quantile(values, 0.5),
        p95Ms: quantile(values, 0.95),
        p99Ms: quantile(values, 0.99),
      };
    });
    for (const row of latency) context.log(`latency ${JSON.stringify(row)}`);
    // the first minute is the warm-up: the JIT, pools and caches fill once
    const baseline = memory.find((m) => m.atS >= 60) ?? memory[0];
    const end = memory[memory.length - 1];
    verdict.check('drained', done, done ? 'every task finished' : 'deliveries still pending');
    verdict.check(
      'nothing lost',
      ledger.lost === 0 && ledger.owed > 0,
      `${ledger.lost} of ${ledger.owed} lost`,
    );
    verdict.check(
      'memory does not grow without bound',
      end.rssMiB <= baseline.rssMiB * MEMORY_GROWTH,
      `relay RSS ${memory[0].rssMiB} MiB at start, ${baseline.rssMiB} MiB after the warm-up, ${end.rssMiB} MiB at the end (bound ×${MEMORY_GROWTH})`,
    );
    return {
      figures: {
        soakSeconds: Math.round(soakMs / 1000),
        tasks: batch * TASKS_PER_SECOND,
        memory,
        latency,
        ...ledgerFigures(ledger),
      },
      checks: verdict.checks,
    };
  });
}
