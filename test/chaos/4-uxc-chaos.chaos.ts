import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import type { SimulatorCall } from '../../src/simulator/simulator';
import type { FaultKind } from '../../src/simulator/simulator-faults';
import { drained, ledgerFigures, reckon } from './support/ledger';
import { onStage, Stage } from './support/stage';

export const name = '4-uxc-chaos';
export const summary =
  'the simulator faults 30% of calls (error codes, HTML 502, hangs, truncated bodies): every terminal event as the simulator ended it, calls within UXC_RATE_LIMIT';
export const short = false;

const RATE_LIMIT = 100;
const FAULT_SHARE = 0.3;
const KINDS: FaultKind[] = ['errNo', 'http-error', 'hang', 'truncated-json'];

/** Every call the simulator logs, gathered as it goes (its own log keeps only the latest). */
function gatherCalls(stage: Stage): { stop(): Promise<SimulatorCall[]> } {
  const calls = new Map<string, SimulatorCall>();
  let running = true;
  const take = async (): Promise<void> => {
    for (const call of await stage.calls())
      calls.set(`${call.at}|${call.sid}|${call.answer}`, call);
  };
  const loop = (async () => {
    while (running) {
      await take().catch(() => undefined);
      await new Promise((done) => setTimeout(done, 1000));
    }
    await take();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return [...calls.values()].sort((a, b) => a.at - b.at);
    },
  };
}

/** The most calls that fell in any one second. */
function busiestSecond(calls: SimulatorCall[]): number {
  let most = 0;
  let from = 0;
  for (let to = 0; to < calls.length; to++) {
    while (calls[to].at - calls[from].at >= 1000) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  const taskCount = context.size(1000, 100);
  return onStage(
    context,
    { database: context.size('machine', 'embedded'), env: { UXC_RATE_LIMIT: String(RATE_LIMIT) } },
    async (stage) => {
      const tasks = await stage.scriptTasks('uxc', taskCount, { queuedMs: 2000, runningMs: 4000 });
      // each kind alike, so that one of them or none meets a call: 1 - (1 - p)^4 = 30%
      const probability = 1 - (1 - FAULT_SHARE) ** (1 / KINDS.length);
      for (const kind of KINDS)
        await stage.addFault({ kind, probability, ...(kind === 'hang' ? { ms: 10_000 } : {}) });
      const calls = gatherCalls(stage);
      await stage.startRelay();
      const subscriptions = await stage.subscribe(tasks, ['/uxc']);
      const done = await drained(stage.database, context.size(600_000, 180_000));
      const log = await calls.stop();
      await stage.clearFaults();
      const stats = await stage.simulatorStats();
      context.log(
        `${stats.total} UXC calls, ${stats.faulted} faulted (${Math.round((100 * stats.faulted) / stats.total)}%)`,
      );
      verdict.check(
        'drained',
        done,
        done ? 'every task finished, no delivery pending' : 'timed out',
      );

      const ledger = await reckon(stage.database, stage.receiver.requests, stage.signingSecret);
      const terminal = new Map(
        ledger.receipts
          .filter((r) => ['task.succeeded', 'task.failed', 'task.canceled'].includes(r.type))
          .map((r) => [String(r.data.sid), r.data]),
      );
      const wrong: string[] = [];
      for (const task of tasks) {
        const data = terminal.get(task.sid);
        const expected = task.final;
        const same =
          data !== undefined &&
          data.status === expected.status &&
          data.message === expected.message &&
          data.costTime === expected.costTime &&
          JSON.stringify(data.outputResult) === JSON.stringify(expected.outputResult);
        if (!same)
          wrong.push(
            `${task.sid}: ${data === undefined ? 'no terminal event' : JSON.stringify(data).slice(0, 200)}`,
          );
      }
      verdict.check(
        'every terminal event as the simulator ended it',
        wrong.length === 0,
        `${taskCount - wrong.length} of ${taskCount} match status, message, costTime and outputResult ${wrong.slice(0, 3).join('; ')}`,
      );
      verdict.check(
        'nothing lost',
        ledger.lost === 0 && ledger.unverified === 0,
        `${ledger.lost} of ${ledger.owed} lost`,
      );
      const busiest = busiestSecond(log);
      verdict.check(
        'UXC calls within UXC_RATE_LIMIT',
        busiest <= RATE_LIMIT && log.length > 0,
        `busiest second had ${busiest} calls (limit ${RATE_LIMIT}/s) of ${log.length} gathered`,
      );
      return {
        figures: {
          tasks: taskCount,
          subscriptions,
          uxcCalls: stats.total,
          faultsInjected: stats.faulted,
          faultShare: Math.round((1000 * stats.faulted) / stats.total) / 1000,
          faultKinds: KINDS,
          busiestSecond: busiest,
          rateLimit: RATE_LIMIT,
          ...ledgerFigures(ledger),
        },
        checks: verdict.checks,
      };
    },
  );
}
