import type { ChaosContext } from '../chaos-scenario';
import { ApiClient } from '../../../bench/support/http';
import { subscribeAll } from '../../../bench/support/subscribe';
import { BENCH_API_KEY, BENCH_UXC, RelayProcess } from '../../../bench/support/relay';
import { LifecycleOptions, lifecycleSteps } from '../../../src/simulator/task-lifecycle';
import type { FaultSpec } from '../../../src/simulator/simulator-faults';
import type { SimulatorCall, SimulatorStats } from '../../../src/simulator/simulator';
import type { UxcTaskData } from '../../../src/uxc/uxc-response';
import { spawnSimulator, StandaloneSimulator } from '../../support/standalone-simulator';
import { ReceiverOptions, WebhookReceiver } from '../../support/receiver';
import { ChaosDatabase, createChaosDatabase, DatabaseKind } from './chaos-database';

/** Short intervals, so that a scenario sees many task lives and retries in a few minutes. */
export const CHAOS_RELAY_ENV: Record<string, string> = {
  POLL_INTERVAL_MS: '300',
  POLL_MAX_INTERVAL_MS: '1000',
  UXC_TIMEOUT_MS: '2000',
  UXC_RATE_LIMIT: '400',
  WEBHOOK_TIMEOUT_MS: '3000',
  WEBHOOK_RETRY_SCHEDULE: '1s,2s,4s,8s,16s,30s,30s,30s,30s,30s,30s,30s',
  WEBHOOK_ORDER_HOLD: '5s',
  LOG_LEVEL: 'warn',
};

/** A task scripted at the simulator, and the answer it ends on. */
export interface ScriptedTask {
  sid: string;
  final: UxcTaskData;
}

export type Outcome = LifecycleOptions['outcome'];

/**
 * One scenario's processes: a fresh database, the standalone UXC simulator,
 * one verifying receiver, and the relays the scenario starts, kills and
 * restarts.
 */
export class Stage {
  readonly relays: RelayProcess[] = [];
  private secret = '';

  private constructor(
    readonly database: ChaosDatabase,
    readonly simulator: StandaloneSimulator,
    readonly receiver: WebhookReceiver,
    private readonly env: Record<string, string>,
  ) {}

  static async start(options: {
    database: DatabaseKind;
    env?: Record<string, string>;
    receiver?: ReceiverOptions;
  }): Promise<Stage> {
    const database = await createChaosDatabase(options.database);
    const simulator = await spawnSimulator();
    await simulator.addCredential(BENCH_UXC);
    const receiver = await WebhookReceiver.start(options.receiver);
    return new Stage(database, simulator, receiver, { ...CHAOS_RELAY_ENV, ...options.env });
  }

  /** A relay process on this stage's database and simulator; the first one learns the signing secret. */
  async startRelay(env: Record<string, string> = {}): Promise<RelayProcess> {
    const relay = await RelayProcess.start({
      DATABASE_URL: this.database.url,
      UXC_BASE_URL: this.simulator.url,
      ...this.env,
      ...env,
    });
    this.relays.push(relay);
    if (this.secret === '') {
      const answer = await this.api(relay).call<{ secret: string }>('GET', '/v1/webhook-secret');
      this.secret = answer.body.secret;
    }
    return relay;
  }

  /** kill -9: no shutdown work at all */
  async kill(relay: RelayProcess): Promise<void> {
    const ended = new Promise((done) => relay.child.once('close', done));
    relay.child.kill('SIGKILL');
    await ended;
    this.relays.splice(this.relays.indexOf(relay), 1);
  }

  api(relay: RelayProcess = this.live()): ApiClient {
    return new ApiClient(relay.url, BENCH_API_KEY, 16);
  }

  live(): RelayProcess {
    const relay = this.relays[this.relays.length - 1];
    if (relay === undefined) throw new Error('no relay is running');
    return relay;
  }

  get signingSecret(): string {
    return this.secret;
  }

  /**
   * Scripts `count` tasks at the simulator: a short queue, a few progress
   * steps, and the outcomes in turn. Their clocks start at the first poll.
   */
  async scriptTasks(
    prefix: string,
    count: number,
    lifecycle: Partial<LifecycleOptions> = {},
    outcomes: Outcome[] = ['succeeded', 'failed', 'canceled'],
  ): Promise<ScriptedTask[]> {
    const tasks: ScriptedTask[] = [];
    for (let i = 0; i < count; i++) {
      const sid = `BT|${prefix}-${i}`;
      const steps = lifecycleSteps(sid, {
        queuedMs: 1000,
        queueLength: 2,
        queueTotal: 8,
        runningMs: 2000,
        progressSteps: 3,
        failureMessage: 'ComfyUI execution failed',
        outputCount: 2,
        ...lifecycle,
        outcome: outcomes[i % outcomes.length],
      });
      tasks.push({ sid, final: steps[steps.length - 1].data as UxcTaskData });
      await this.simulatorPost('/simulator/tasks', { sid, steps });
    }
    return tasks;
  }

  /** One subscription per task and path, all of them on this stage's receiver. */
  async subscribe(tasks: ScriptedTask[], paths: string[], events?: string[]): Promise<number> {
    const items = tasks.flatMap((task) =>
      paths.map((path) => ({ sid: task.sid, callbackUrl: this.receiver.url(path), events })),
    );
    const api = this.api();
    try {
      await subscribeAll(api, items);
    } finally {
      api.close();
    }
    return items.length;
  }

  addFault(fault: FaultSpec): Promise<void> {
    return this.simulator.addFault(fault);
  }

  async clearFaults(): Promise<void> {
    await fetch(`${this.simulator.url}/simulator/faults`, { method: 'DELETE' });
  }

  async simulatorStats(): Promise<SimulatorStats> {
    return (await fetch(`${this.simulator.url}/simulator/stats`)).json() as Promise<SimulatorStats>;
  }

  calls(): Promise<SimulatorCall[]> {
    return this.simulator.calls();
  }

  /** GET /health/ready of a relay: its status, or 0 when it does not answer */
  async ready(relay: RelayProcess = this.live()): Promise<number> {
    try {
      return (await fetch(`${relay.url}/health/ready`, { signal: AbortSignal.timeout(3000) }))
        .status;
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    for (const relay of [...this.relays]) await relay.stop().catch(() => undefined);
    await this.receiver.close();
    await this.simulator.close();
    await this.database.drop();
  }

  private async simulatorPost(path: string, body: unknown): Promise<void> {
    const answer = await fetch(`${this.simulator.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!answer.ok) throw new Error(`simulator ${path}: ${answer.status} ${await answer.text()}`);
  }
}

/** Runs `work` on a stage and always takes the stage down, even when the scenario throws. */
export async function onStage<T>(
  context: ChaosContext,
  options: Parameters<typeof Stage.start>[0],
  work: (stage: Stage) => Promise<T>,
): Promise<T> {
  context.log(`stage: ${options.database} PostgreSQL, standalone simulator, verifying receiver`);
  const stage = await Stage.start(options);
  try {
    return await work(stage);
  } finally {
    await stage
      .stop()
      .catch((error: unknown) => context.log(`stage stop failed: ${String(error)}`));
  }
}
