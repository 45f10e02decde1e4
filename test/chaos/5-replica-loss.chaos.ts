import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import { drained, ledgerFigures, reckon } from './support/ledger';
import { onStage } from './support/stage';

export const name = '5-replica-loss';
export const summary =
  'two relays share the load and one is killed mid-run: the survivor takes over, nothing lost, nothing sent twice while both were alive';
export const short = false;

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  const taskCount = context.size(600, 80);
  return onStage(context, { database: context.size('machine', 'embedded') }, async (stage) => {
    const tasks = await stage.scriptTasks('replica', taskCount, {
      queuedMs: 3000,
      runningMs: 8000,
      progressSteps: 4,
    });
    const survivor = await stage.startRelay();
    const victim = await stage.startRelay();
    const subscriptions = await stage.subscribe(tasks, ['/r1', '/r2']);
    // mid-run: once every subscription has had its first webhook
    await stage.receiver.waitForCount(subscriptions, 120_000);
    const owners = await stage.database.query<{ owner: string; leases: string }>(
      `SELECT locked_by AS owner, count(*) AS leases FROM (
         SELECT locked_by FROM tasks WHERE locked_until > now()
         UNION ALL SELECT locked_by FROM delivery_lanes WHERE locked_by IS NOT NULL) l
       WHERE locked_by IS NOT NULL GROUP BY locked_by`,
    );
    const beforeKill = stage.receiver.requests.slice();
    await stage.kill(victim);
    const killedAt = Date.now();
    context.log(
      `leases by owner before the kill: ${owners.map((o) => `${o.owner.slice(0, 12)}=${o.leases}`).join(', ')}; killed relay ${victim.pid} after ${beforeKill.length} webhooks`,
    );
    // owners are `<host>:<pid>:<nonce>` (poller) or `<host>/<pid>/<nonce>` (dispatcher)
    const processes = new Set(owners.map((o) => o.owner.split(/[:/]/)[1]));
    verdict.check(
      'two relays share the load',
      processes.size >= 2,
      `leases held by ${processes.size} processes while both ran`,
    );
    const done = await drained(stage.database, context.size(300_000, 120_000));
    verdict.check(
      'the survivor takes over',
      done && survivor.child.exitCode === null,
      done
        ? `relay ${survivor.pid} finished every task and delivery alone, ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`
        : 'deliveries still pending',
    );
    const ledger = await reckon(stage.database, stage.receiver.requests, stage.signingSecret);
    verdict.check(
      'nothing lost',
      ledger.lost === 0 && ledger.unverified === 0 && ledger.owed > 0,
      `${ledger.lost} of ${ledger.owed} lost ${ledger.lostExamples.join('; ')}`,
    );
    const whileBoth = await reckon(stage.database, beforeKill, stage.signingSecret);
    verdict.check(
      'nothing sent twice while both were alive',
      whileBoth.repeats === 0,
      `${whileBoth.repeats} repeats among the ${beforeKill.length} webhooks before the kill; ${ledger.repeats - whileBoth.repeats} after it (in flight at the kill)`,
    );
    return {
      figures: {
        tasks: taskCount,
        subscriptions,
        relays: 2,
        kills: 1,
        webhooksBeforeKill: beforeKill.length,
        repeatsWhileBothAlive: whileBoth.repeats,
        ...ledgerFigures(ledger),
      },
      checks: verdict.checks,
    };
  });
}
