import { BENCH_API_KEY } from '../bench/support/relay';
import { drained, reckon } from './chaos/support/ledger';
import { Stage } from './chaos/support/stage';

/**
 * The built relay as a real process on a PostgreSQL server of its own, which
 * is stopped and started again while tasks run and webhooks are in flight: the
 * relay must come back by itself, with nothing lost, without being restarted.
 */
describe('a database restart under load', () => {
  let stage: Stage;

  beforeAll(async () => {
    stage = await Stage.start({ database: 'embedded' });
  }, 60_000);

  afterAll(async () => {
    await stage?.stop();
  }, 60_000);

  it('is survived by the same relay process: ready again, every webhook delivered', async () => {
    const taskCount = 30;
    // still running when the server is back, so events are written on both sides of the restart
    const tasks = await stage.scriptTasks('db-restart', taskCount, {
      queuedMs: 1000,
      runningMs: 6000,
      progressSteps: 4,
    });
    const relay = await stage.startRelay();
    await stage.subscribe(tasks, ['/restart']);
    await stage.receiver.waitForCount(taskCount, 30_000);

    // readiness asks the database on every request: while the server is down it
    // says so, and so does the API, which answers 503 with Retry-After, not 500
    const whileDown: number[] = [];
    const apiWhileDown: { status: number; retryAfter: string | null }[] = [];
    let restarting = true;
    const sampling = (async () => {
      while (restarting) {
        whileDown.push(await stage.ready(relay));
        const answer = await fetch(`${relay.url}/v1/tasks/${tasks[0].sid}`, {
          headers: { authorization: `Bearer ${BENCH_API_KEY}` },
          signal: AbortSignal.timeout(5000),
        }).catch(() => null);
        if (answer) {
          apiWhileDown.push({
            status: answer.status,
            retryAfter: answer.headers.get('retry-after'),
          });
        }
        await new Promise((done) => setTimeout(done, 100));
      }
    })();
    await stage.database.restart(2000);
    restarting = false;
    await sampling;
    expect(whileDown).toContain(503);
    expect(apiWhileDown.filter((answer) => answer.status >= 500 && answer.status !== 503)).toEqual(
      [],
    );
    expect(apiWhileDown).toContainEqual({ status: 503, retryAfter: '5' });

    let readyAgain = false;
    const deadline = Date.now() + 30_000;
    while (!readyAgain && Date.now() < deadline) {
      readyAgain = (await stage.ready(relay)) === 200;
      if (!readyAgain) await new Promise((done) => setTimeout(done, 250));
    }
    expect(readyAgain).toBe(true);

    expect(await drained(stage.database, 60_000)).toBe(true);
    expect(relay.child.exitCode).toBeNull();
    expect(relay.child.signalCode).toBeNull();
    const ledger = await reckon(stage.database, stage.receiver.requests, stage.signingSecret);
    expect(ledger.owed).toBeGreaterThanOrEqual(taskCount * 2);
    expect(ledger.lostExamples).toEqual([]);
    expect(ledger.lost).toBe(0);
    expect(ledger.unverified).toBe(0);
  }, 150_000);
});
