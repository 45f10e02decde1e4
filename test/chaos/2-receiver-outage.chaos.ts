import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import { drained, ledgerFigures, reckon } from './support/ledger';
import { onStage } from './support/stage';

export const name = '2-receiver-outage';
export const summary =
  'a receiver answers 503 for 2 minutes while tasks run: every state event arrives in sequence order, stale progress superseded, retries in the attempt logs';
export const short = false;

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  const taskCount = context.size(500, 60);
  const outageMs = context.size(120_000, 20_000);
  let down = true;
  return onStage(
    context,
    {
      database: context.size('machine', 'embedded'),
      // order is promised while a failing head holds the line: the hold outlasts the outage
      env: { WEBHOOK_ORDER_HOLD: '10m' },
      receiver: {
        answer: () => (down ? { status: 503, body: 'down for maintenance' } : { status: 204 }),
      },
    },
    async (stage) => {
      const tasks = await stage.scriptTasks('outage', taskCount, {
        queuedMs: 3000,
        runningMs: Math.min(outageMs / 2, 30_000),
        progressSteps: 6,
      });
      await stage.startRelay();
      const subscriptions = await stage.subscribe(tasks, ['/outage']);
      const began = Date.now();
      context.log(`${taskCount} tasks; the receiver answers 503 for ${outageMs / 1000} s`);
      await new Promise((done) => setTimeout(done, outageMs));
      down = false;
      const refused = stage.receiver.requests.filter((request) => request.status === 503).length;
      context.log(`receiver back after ${Date.now() - began} ms; it refused ${refused} attempts`);
      const done = await drained(stage.database, context.size(300_000, 120_000));
      verdict.check(
        'drained',
        done,
        done ? 'every task finished, no delivery pending' : 'timed out',
      );
      const ledger = await reckon(stage.database, stage.receiver.requests, stage.signingSecret);
      verdict.check(
        'every state event arrives',
        ledger.lost === 0 && ledger.unverified === 0 && ledger.owed > 0,
        `${ledger.lost} of ${ledger.owed} lost ${ledger.lostExamples.join('; ')}`,
      );
      verdict.check(
        'in sequence order per subscription',
        ledger.outOfOrder === 0,
        `${ledger.outOfOrder} state events arrived after a later one`,
      );
      verdict.check(
        'stale progress superseded',
        ledger.superseded > 0,
        `${ledger.superseded} progress deliveries superseded, never sent`,
      );
      const [retries] = await stage.database.query<{
        deliveries: string;
        max: number;
        gaps: number[];
      }>(
        `SELECT count(*) AS deliveries, max(n) AS max,
                (SELECT array_agg(extract(epoch FROM a.at - lag_at) * 1000 ORDER BY a.at)
                   FROM (SELECT at, lag(at) OVER (ORDER BY at) AS lag_at FROM delivery_attempts
                          WHERE delivery_id = (SELECT delivery_id FROM delivery_attempts
                                                GROUP BY delivery_id ORDER BY count(*) DESC LIMIT 1)) a
                  WHERE lag_at IS NOT NULL) AS gaps
           FROM (SELECT count(*) AS n FROM delivery_attempts WHERE status_code = 503
                  GROUP BY delivery_id) per`,
      );
      const gaps = (retries.gaps ?? []).map((gap) => Math.round(Number(gap)));
      verdict.check(
        'the retry schedule is visible in the attempt logs',
        Number(retries.deliveries) > 0 && retries.max >= 3,
        `${retries.deliveries} deliveries logged 503 attempts, up to ${retries.max} each; the most tried one waited ${gaps.join(', ')} ms between attempts`,
      );
      return {
        figures: {
          tasks: taskCount,
          subscriptions,
          outageMs,
          attemptsRefused: refused,
          mostRetriedGapsMs: gaps,
          ...ledgerFigures(ledger),
        },
        checks: verdict.checks,
      };
    },
  );
}
