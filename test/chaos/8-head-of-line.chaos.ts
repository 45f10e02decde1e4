import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import { receiptsOf } from './support/ledger';
import { onStage } from './support/stage';

export const name = '8-head-of-line';
export const summary =
  'a receiver refuses task.queued with 400 and takes the rest: every terminal event within WEBHOOK_ORDER_HOLD plus a few seconds, the refused keep their retry schedule';
export const short = true;

const HOLD_MS = 5000;
/** a poll, a lane claim and an attempt after the hold has run out */
const SLACK_MS = 4000;
const SCHEDULE_MS = [1000, 2000, 4000, 8000, 16000, 30000];
/** WEBHOOK_RETRY_SCHEDULE is jittered by ±20%; a retry is due on the dispatcher's next look */
const JITTER = 0.2;
const LATE_MS = 1500;

interface AttemptRow {
  delivery_id: string;
  state: string;
  at: Date;
}

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  const taskCount = context.size(300, 60);
  return onStage(
    context,
    {
      database: context.size('machine', 'embedded'),
      env: {
        WEBHOOK_ORDER_HOLD: `${HOLD_MS}ms`,
        WEBHOOK_RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(','),
      },
      receiver: {
        answer: (request) =>
          (request.json as { type?: string } | undefined)?.type === 'task.queued'
            ? { status: 400, body: 'we do not take task.queued' }
            : { status: 204 },
      },
    },
    async (stage) => {
      const tasks = await stage.scriptTasks('hol', taskCount, {
        queuedMs: 1500,
        runningMs: 2000,
        progressSteps: 2,
      });
      await stage.startRelay();
      await stage.subscribe(tasks, ['/hol']);
      const terminal = (type: string): boolean =>
        ['task.succeeded', 'task.failed', 'task.canceled'].includes(type);
      await stage.receiver
        .waitFor(
          () =>
            receiptsOf(stage.receiver.requests, stage.signingSecret).receipts.filter((r) =>
              terminal(r.type),
            ).length >= taskCount,
          context.size(180_000, 90_000),
        )
        .catch(() => undefined);
      // let the refused ones run through a few more of their retries
      await new Promise((done) => setTimeout(done, 16_000));

      const { receipts } = receiptsOf(stage.receiver.requests, stage.signingSecret);
      const observed = await stage.database.query<{
        subscription_id: string;
        sequence: number;
        observed_at: Date;
      }>(
        `SELECT s.id AS subscription_id, e.sequence, e.observed_at
           FROM task_events e JOIN subscriptions s ON s.task_id = e.task_id
          WHERE e.type IN ('task.succeeded', 'task.failed', 'task.canceled')`,
      );
      const latencies: number[] = [];
      let missing = 0;
      for (const row of observed) {
        const receipt = receipts.find(
          (r) => r.subscriptionId === row.subscription_id && r.sequence === row.sequence,
        );
        if (receipt === undefined) missing++;
        else latencies.push(receipt.at - row.observed_at.getTime());
      }
      latencies.sort((a, b) => a - b);
      const worst = latencies[latencies.length - 1] ?? 0;
      verdict.check(
        'every terminal event arrives within WEBHOOK_ORDER_HOLD plus a few seconds',
        missing === 0 && observed.length === taskCount && worst <= HOLD_MS + SLACK_MS,
        `${latencies.length} of ${taskCount} arrived, ${missing} missing; slowest ${worst} ms after it was observed (bound ${HOLD_MS} + ${SLACK_MS} ms), median ${latencies[Math.floor(latencies.length / 2)] ?? 0} ms`,
      );

      const attempts = await stage.database.query<AttemptRow>(
        `SELECT d.id AS delivery_id, d.state, a.at FROM deliveries d
           JOIN delivery_attempts a ON a.delivery_id = d.id
          WHERE d.event_type = 'task.queued' ORDER BY d.id, a.at`,
      );
      const byDelivery = new Map<string, AttemptRow[]>();
      for (const row of attempts)
        byDelivery.set(row.delivery_id, [...(byDelivery.get(row.delivery_id) ?? []), row]);
      let gaps = 0;
      const offSchedule: string[] = [];
      for (const [id, rows] of byDelivery) {
        for (let i = 1; i < rows.length; i++) {
          const gap = rows[i].at.getTime() - rows[i - 1].at.getTime();
          const planned = SCHEDULE_MS[Math.min(i - 1, SCHEDULE_MS.length - 1)];
          gaps++;
          if (gap < planned * (1 - JITTER) || gap > planned * (1 + JITTER) + LATE_MS)
            offSchedule.push(`${id} retry ${i} after ${gap} ms (planned ${planned} ms)`);
        }
      }
      const states: Record<string, number> = {};
      for (const rows of byDelivery.values())
        states[rows[0].state] = (states[rows[0].state] ?? 0) + 1;
      const refused = byDelivery.size;
      const retried = [...byDelivery.values()].filter((rows) => rows.length >= 3).length;
      verdict.check(
        'the refused keep their retry schedule',
        refused > 0 && retried === refused && offSchedule.length === 0,
        `${refused} task.queued deliveries refused (${JSON.stringify(states)}), ${retried} retried at least twice; ${gaps} retry gaps, ${offSchedule.length} off the schedule ${offSchedule.slice(0, 3).join('; ')}`,
      );
      // how long the receiver took to answer, as the relay timed it: a slow
      // receiver (e.g. a busy event loop in this process) delays everything
      const [answer] = await stage.database.query<{ median: number; p99: number; max: number }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::int AS median,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)::int AS p99,
                max(duration_ms)::int AS max
           FROM delivery_attempts`,
      );
      return {
        figures: {
          tasks: taskCount,
          holdMs: HOLD_MS,
          terminalLatencyMs: {
            median: latencies[Math.floor(latencies.length / 2)] ?? null,
            max: worst,
          },
          refusedDeliveries: refused,
          refusedStates: states,
          retryGaps: gaps,
          retryGapsOffSchedule: offSchedule.length,
          receiverAnswerMs: answer,
        },
        checks: verdict.checks,
      };
    },
  );
}
