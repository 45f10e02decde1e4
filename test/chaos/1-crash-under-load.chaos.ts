import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import { drained, ledgerFigures, reckon } from './support/ledger';
import { onStage } from './support/stage';

/** At most this many attempts are in flight in one relay: what one kill can repeat. */
const DISPATCHER_CONCURRENCY = 64;

export const name = '1-crash-under-load';
export const summary =
  'kill -9 the relay three times under load and restart it: nothing undelivered, repeats bounded by what was in flight, same webhook-id';
export const short = true;

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  const taskCount = context.size(1000, 150);
  const kills = 3;
  return onStage(
    context,
    {
      database: context.size('machine', 'embedded'),
      env: { DISPATCHER_CONCURRENCY: String(DISPATCHER_CONCURRENCY) },
    },
    async (stage) => {
      const tasks = await stage.scriptTasks('crash', taskCount, {
        queuedMs: 2000,
        runningMs: 6000,
        progressSteps: 4,
      });
      await stage.startRelay();
      const subscriptions = await stage.subscribe(tasks, ['/a', '/b']);
      context.log(`${taskCount} tasks, ${subscriptions} subscriptions registered`);
      const killedAt: number[] = [];
      for (let k = 1; k <= kills; k++) {
        await new Promise((done) => setTimeout(done, 1000 + Math.random() * 3000));
        const before = stage.receiver.requests.length;
        await stage.kill(stage.live());
        killedAt.push(Date.now());
        context.log(`kill -9 #${k} after ${before} webhooks received; restarting`);
        await stage.startRelay();
      }
      const done = await drained(stage.database, context.size(300_000, 120_000));
      verdict.check(
        'drained',
        done,
        done ? 'every task finished, no delivery pending' : 'timed out',
      );
      const ledger = await reckon(stage.database, stage.receiver.requests, stage.signingSecret);
      context.log(
        `owed ${ledger.owed}, delivered ${ledger.delivered}, superseded ${ledger.superseded}, lost ${ledger.lost}, repeats ${ledger.repeats}`,
      );
      verdict.check(
        'no (subscription, sequence) undelivered',
        ledger.lost === 0 && ledger.owed > 0,
        `${ledger.lost} of ${ledger.owed} lost ${ledger.lostExamples.join('; ')}`,
      );
      verdict.check(
        'every webhook verifies',
        ledger.unverified === 0,
        `${ledger.unverified} signatures refused`,
      );
      const bound = kills * DISPATCHER_CONCURRENCY;
      verdict.check(
        'repeats bounded by what was in flight',
        ledger.repeats <= bound,
        `${ledger.repeats} repeats, at most ${kills} kills × ${DISPATCHER_CONCURRENCY} attempts in flight = ${bound}`,
      );
      verdict.check(
        'repeats keep their webhook-id',
        ledger.repeatsWithNewId === 0,
        `${ledger.repeatsWithNewId} repeats with another webhook-id`,
      );
      return {
        figures: { tasks: taskCount, subscriptions, kills, ...ledgerFigures(ledger) },
        checks: verdict.checks,
      };
    },
  );
}
