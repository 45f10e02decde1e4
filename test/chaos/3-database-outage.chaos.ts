import type { ChaosContext, ChaosResult } from './chaos-scenario';
import { Verdict } from './chaos-scenario';
import type { DatabaseKind } from './support/chaos-database';
import { drained, ledgerFigures, reckon } from './support/ledger';
import { onStage, Stage } from './support/stage';

export const name = '3-database-outage';
export const summary =
  'connections terminated for 20 s, then the server restarted, while tasks flow: /health/ready 503 then 200, no relay restart, nothing lost';
export const short = true;

const OUTAGE_MS = 20_000;
/**
 * How long the embedded server stays stopped. Its stop and start take about
 * a second, and that was all the outage there was: /health/ready answers 200
 * while backends are merely terminated (the pool opens new connections at
 * once, the database is reachable), so the 503s came from that second alone,
 * sampled every 250 ms from a process busy restarting the server, and some
 * runs caught none. The machine's service restart takes several seconds.
 */
const EMBEDDED_DOWN_MS = 5000;

/** /health/ready answers, sampled every 250 ms until `stop` is called. */
function sampleReadiness(stage: Stage): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push(await stage.ready());
      await new Promise((done) => setTimeout(done, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

async function outage(
  context: ChaosContext,
  verdict: Verdict,
  kind: DatabaseKind,
): Promise<Record<string, unknown>> {
  const taskCount = context.size(300, 60);
  return onStage(context, { database: kind }, async (stage) => {
    // long enough to be still running when the outage ends
    const tasks = await stage.scriptTasks(`db-${kind}`, taskCount, {
      queuedMs: 4000,
      runningMs: OUTAGE_MS + 10_000,
      progressSteps: 10,
    });
    const relay = await stage.startRelay();
    const subscriptions = await stage.subscribe(tasks, ['/db']);
    await stage.receiver.waitForCount(taskCount, 60_000);

    const duringOutage = sampleReadiness(stage);
    let terminated = 0;
    let rounds = 0;
    const ends = Date.now() + OUTAGE_MS;
    while (Date.now() < ends) {
      terminated += await stage.database.terminateConnections();
      rounds++;
      await new Promise((done) => setTimeout(done, 1000));
    }
    context.log(
      `${rounds} rounds of pg_terminate_backend ended ${terminated} connections; restarting the server`,
    );
    const restartStarted = Date.now();
    await stage.database.restart(kind === 'embedded' ? EMBEDDED_DOWN_MS : 0);
    const restartMs = Date.now() - restartStarted;
    const outageSamples = await duringOutage.stop();
    const unready = outageSamples.filter((status) => status !== 200).length;
    const byStatus: Record<string, number> = {};
    for (const status of outageSamples) byStatus[status] = (byStatus[status] ?? 0) + 1;
    context.log(
      `server back after ${restartMs} ms; /health/ready answered non-200 ${unready} of ${outageSamples.length} times (${JSON.stringify(byStatus)}, 0: no answer within 3 s)`,
    );

    let readyAfterMs = -1;
    const since = Date.now();
    while (Date.now() - since < 60_000) {
      if ((await stage.ready(relay)) === 200) {
        readyAfterMs = Date.now() - since;
        break;
      }
      await new Promise((done) => setTimeout(done, 250));
    }
    verdict.check(
      `${kind}: /health/ready 503 during the outage`,
      outageSamples.includes(503),
      `${outageSamples.filter((s) => s === 503).length} of ${outageSamples.length} samples answered 503`,
    );
    verdict.check(
      `${kind}: /health/ready 200 after`,
      readyAfterMs >= 0,
      readyAfterMs >= 0
        ? `200 again ${readyAfterMs} ms after the server was back`
        : 'never 200 again',
    );
    const done = await drained(stage.database, context.size(180_000, 90_000));
    verdict.check(
      `${kind}: recovers without a process restart`,
      relay.child.exitCode === null && relay.child.signalCode === null && done,
      relay.child.exitCode !== null || relay.child.signalCode !== null
        ? `the relay exited (${relay.child.exitCode ?? relay.child.signalCode}); its last words: ${relay.output().slice(-800)}`
        : `same relay process ${relay.pid}${done ? ', every task finished' : ', but deliveries still pending'}`,
    );
    const ledger = await reckon(stage.database, stage.receiver.requests, stage.signingSecret);
    verdict.check(
      `${kind}: nothing lost`,
      ledger.lost === 0 && ledger.unverified === 0 && ledger.owed > 0,
      `${ledger.lost} of ${ledger.owed} lost, ${ledger.unverified} unverified ${ledger.lostExamples.join('; ')}`,
    );
    return {
      database: kind,
      tasks: taskCount,
      subscriptions,
      outageMs: OUTAGE_MS,
      terminateRounds: rounds,
      connectionsTerminated: terminated,
      serverRestartMs: restartMs,
      readinessSamples: outageSamples.length,
      readiness503: outageSamples.filter((s) => s === 503).length,
      readyAgainAfterMs: readyAfterMs,
      ...ledgerFigures(ledger),
    };
  });
}

export async function run(context: ChaosContext): Promise<ChaosResult> {
  const verdict = new Verdict(context.log);
  // CI shares the machine's server: the short run breaks an embedded one only
  const kinds: DatabaseKind[] = context.size(['machine', 'embedded'], ['embedded']);
  const figures: Record<string, unknown> = {};
  for (const kind of kinds) figures[kind] = await outage(context, verdict, kind);
  return { figures, checks: verdict.checks };
}
