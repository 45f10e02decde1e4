import { newId } from '../src/common/ids';
import { pollDelay } from '../src/poller/cadence';
import { startSimulatorServer } from '../src/simulator/simulator-server';
import type { SimulatorStep } from '../src/simulator/task-lifecycle';
import type { BenchResult, BenchScenario } from './bench-scenario';
import { BENCH_UXC_CREDENTIAL, startBenchRelay } from './bench-relay';
import { createBenchDatabase } from './bench-database';

/**
 * What a queued task costs in UXC calls, by its place in the queue: a real
 * relay (AppModule, poller on, PostgreSQL) polls the simulator over HTTP, and
 * the calls are counted at the simulator. Every interval is 1/SCALE of the
 * defaults so a short window holds many polls; the per-minute numbers at the
 * defaults are the measured ones divided by SCALE.
 */
const SCALE = 10;
const DEFAULT_INTERVAL_MS = 2000;
const DEFAULT_MAX_INTERVAL_MS = 30000;
const WINDOW_MS = 20_000;
const TASKS_PER_CASE = 5;

const CASES: { label: string; step: SimulatorStep }[] = [
  { label: 'running', step: { data: { status: 200, progress: 0.5, queueNum: 0, queueTotal: 0 } } },
  ...[1, 2, 3, 10, 30, 100].map((queueNum) => ({
    label: `queued, queueNum ${queueNum}`,
    step: { data: { status: 100, progress: 0, queueNum, queueTotal: 120 } },
  })),
];

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function run(): Promise<BenchResult> {
  const database = await createBenchDatabase();
  const sim = await startSimulatorServer({ failSidPattern: null });
  const env = {
    DATABASE_URL: database.url,
    UXC_BASE_URL: sim.url,
    POLLER_ENABLED: 'true',
    DISPATCHER_ENABLED: 'false',
    POLL_INTERVAL_MS: String(DEFAULT_INTERVAL_MS / SCALE),
    POLL_MAX_INTERVAL_MS: String(DEFAULT_MAX_INTERVAL_MS / SCALE),
    // the point is cadence, not the per-credential cap
    UXC_RATE_LIMIT: '1000',
  };
  const { app, prisma, outbox, tenant } = await startBenchRelay(env);

  try {
    sim.simulator.addCredential(BENCH_UXC_CREDENTIAL);

    const sidsByCase = CASES.map((c, i) =>
      Array.from({ length: TASKS_PER_CASE }, (_, n) => `BT|bench-${i}-${n}`),
    );
    for (const [i, sids] of sidsByCase.entries()) {
      for (const sid of sids) {
        sim.simulator.scriptTask({ sid, mode: 'manual', steps: [CASES[i].step] });
        await prisma.$transaction(async (tx) => {
          const task = await outbox.track(tx, tenant.id, sid);
          await tx.subscription.create({
            data: {
              id: newId('sub'),
              tenantId: tenant.id,
              taskId: task.id,
              sid,
              callbackUrl: `http://127.0.0.1:9/bench/${i}`,
              events: [],
            },
          });
        });
      }
    }

    // every task observed once: from here on each call is a steady-state poll
    const all = sidsByCase.flat();
    while (all.some((sid) => !sim.simulator.stats().bySid[sid])) await sleep(50);
    await sleep(DEFAULT_MAX_INTERVAL_MS / SCALE);
    const before = sim.simulator.stats().bySid;
    const started = Date.now();
    await sleep(WINDOW_MS);
    const after = sim.simulator.stats().bySid;
    const elapsedMin = (Date.now() - started) / 60_000;

    const rows = CASES.map((c, i) => {
      const calls = sidsByCase[i].reduce((sum, sid) => sum + (after[sid] - before[sid]), 0);
      const perTaskPerMin = calls / TASKS_PER_CASE / elapsedMin;
      const state = c.label === 'running' ? 'running' : 'queued';
      const queueNum = (c.step.data?.queueNum as number) ?? 0;
      const cadenceMs = pollDelay(state, queueNum, {
        intervalMs: DEFAULT_INTERVAL_MS,
        maxIntervalMs: DEFAULT_MAX_INTERVAL_MS,
      });
      return {
        task: c.label,
        'calls measured': calls,
        'calls/min per task (scaled run)': perTaskPerMin.toFixed(1),
        'calls/min per task at defaults': (perTaskPerMin / SCALE).toFixed(2),
        'cadence at defaults': `${cadenceMs / 1000} s`,
      };
    });
    const head = Number(rows[1]['calls/min per task at defaults']);
    const back = Number(rows[rows.length - 1]['calls/min per task at defaults']);
    return {
      title: 'Poll cadence: UXC calls per task by queue position',
      setup: [
        `a real relay (AppModule, POLLER_ENABLED, PostgreSQL) polling the UXC simulator over loopback HTTP; calls counted at the simulator`,
        `POLL_INTERVAL_MS=${env.POLL_INTERVAL_MS}, POLL_MAX_INTERVAL_MS=${env.POLL_MAX_INTERVAL_MS} (the defaults 2000/30000 divided by ${SCALE}), UXC_RATE_LIMIT=1000`,
        `${TASKS_PER_CASE} tasks per case held at a fixed queue position, ${(elapsedMin * 60).toFixed(1)} s measured after every task had been polled once`,
        `"at defaults" = measured ÷ ${SCALE}: every interval at the defaults is ${SCALE}× longer`,
      ],
      rows,
      notes: [
        `A task 100 places back costs ${back} calls/min at the defaults against ${head} at the head of the queue: ${(head / back).toFixed(1)}× fewer.`,
      ],
    };
  } finally {
    await app.close();
    await sim.close();
    await database.drop();
  }
}

export const name: BenchScenario['name'] = 'poll cadence by queue position';
export { run };
