import { createSubscription } from './support/factories';
import { PollerWorld, startPollerWorld } from './support/poller-harness';
import { ReceivedRequest, WebhookReceiver } from './support/receiver';
import { sleep, waitFor } from './support/wait';

/** A steady queue: every task enters at place QUEUE and moves up one place each STEP_MS. */
const QUEUE = 12;
const STEP_MS = 2000;
const RUN_MS = 3000;
const TASKS = 16;
/** The place the accuracy is measured at. */
const AT_PLACE = 10;

interface Basis {
  tasks: number;
  windowSeconds: number;
  drainPerMinute: number | null;
  finishedTasks: number;
  runSeconds: number | null;
}

interface Data {
  sid: string;
  state: string;
  queueNum: number | null;
  estimatedStartAt: string | null;
  estimatedFinishAt: string | null;
  estimateBasis: Basis | null;
}

interface Body {
  type: string;
  timestamp: string;
  data: Data;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

describe('estimated start and finish of queued tasks', () => {
  let world: PollerWorld;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    world = await startPollerWorld({ DISPATCHER_ENABLED: 'true', ESTIMATE_REFRESH_MS: '200' });
  });

  afterAll(async () => {
    await world.close();
    await receiver.close();
  });

  it('estimates the start at queueNum 10 of a steady queue within 20% of the true wait', async () => {
    const { sim, relay, tenant } = world;
    // the simulator's queue: a task every STEP_MS, each QUEUE places back, so
    // QUEUE tasks are always waiting and the queue drains one place per STEP_MS
    const startsAt = new Map<string, number>();
    const subscriptions: string[] = [];
    let checked: Promise<void> = Promise.resolve();
    const first = Date.now();
    for (let k = 0; k < TASKS; k++) {
      await sleep(Math.max(0, first + k * STEP_MS - Date.now()));
      const sid = `BT|eta-${k}`;
      const scriptedAt = Date.now();
      sim.simulator.scriptTask({
        sid,
        start: 'now',
        lifecycle: {
          queuedMs: QUEUE * STEP_MS,
          queueLength: QUEUE,
          queueTotal: QUEUE,
          runningMs: RUN_MS,
          progressSteps: 1,
        },
      });
      startsAt.set(sid, scriptedAt + QUEUE * STEP_MS);
      const subscription = await createSubscription(relay, tenant.tenant, {
        sid,
        callbackUrl: receiver.url(`/eta/${k}`),
        events: ['task.queued', 'task.progress', 'task.running', 'task.succeeded'],
      });
      subscriptions.push(subscription.id);
      // checked beside the queue, so as not to hold up the next arrival
      if (k === TASKS - 4) checked = checkTaskResponse(sid);
    }
    await checked;
    await receiver
      .waitFor(
        (requests) => requests.filter((r) => body(r).type === 'task.succeeded').length >= TASKS,
        QUEUE * STEP_MS + 30_000,
      )
      .catch((error: Error) => {
        const last = new Map(receiver.requests.map((r) => [body(r).data.sid, body(r).type]));
        const problems = relay.logs.lines.filter((line) => /warn|error/i.test(line));
        throw new Error(
          `${error.message}\nlast event per task: ${JSON.stringify([...last])}\n${problems.join('\n')}`,
        );
      });

    // receivers get the estimates in signed bodies
    const estimated = receiver.requests.filter((r) => body(r).data.estimatedStartAt !== null);
    expect(estimated.length).toBeGreaterThan(0);
    expect(WebhookReceiver.verify(estimated[0], tenant.webhookSecret)).toEqual(body(estimated[0]));

    // every body as built and signed, also those of progress events that a
    // newer event superseded before they were sent (a busy machine's dispatcher)
    const deliveries = await relay.prisma.delivery.findMany({
      where: { subscriptionId: { in: subscriptions } },
    });
    const atPlace = new Map<string, Body>();
    for (const delivery of deliveries) {
      const sent = JSON.parse(delivery.payload) as Body;
      if (sent.data.state === 'queued' && sent.data.queueNum === AT_PLACE) {
        atPlace.set(sent.data.sid, sent);
      }
    }
    // each task is seen at each place (a place lasts 2 s; a 10th is polled every 0.5 s)
    expect(atPlace.size).toBeGreaterThanOrEqual(TASKS - 1);

    // the first tasks have nobody ahead whose fall was measured yet
    const firstTask = atPlace.get('BT|eta-0');
    expect(firstTask?.data.estimatedStartAt).toBeNull();
    expect(firstTask?.data.estimateBasis?.tasks).toBeLessThan(3);

    const errors: number[] = [];
    for (const [sid, { timestamp, data }] of atPlace) {
      if (data.estimatedStartAt === null) continue;
      const trueStart = startsAt.get(sid) as number;
      const trueWait = trueStart - Date.parse(timestamp);
      errors.push(Math.abs(Date.parse(data.estimatedStartAt) - trueStart) / trueWait);
      expect(data.estimateBasis?.tasks).toBeGreaterThanOrEqual(3);
      expect(data.estimateBasis?.drainPerMinute).toBeGreaterThan(0);
      if (data.estimatedFinishAt !== null) {
        const runSeconds = data.estimateBasis?.runSeconds as number;
        // the simulator's costTime for a 3 s run: 3 to 3.99 s
        expect(runSeconds).toBeGreaterThanOrEqual(3);
        expect(runSeconds).toBeLessThan(4);
        expect(Date.parse(data.estimatedFinishAt) - Date.parse(data.estimatedStartAt)).toBeCloseTo(
          runSeconds * 1000,
          -1,
        );
      }
    }
    expect(errors.length).toBeGreaterThanOrEqual(TASKS - 5);
    // later tasks know run times of tasks that finished
    expect([...atPlace.values()].some((b) => b.data.estimatedFinishAt !== null)).toBe(true);

    const figure = median(errors);
    console.log(
      `estimatedStartAt at queueNum ${AT_PLACE}: median absolute error ${(figure * 100).toFixed(1)}% of the true wait (${errors.length} tasks, worst ${(Math.max(...errors) * 100).toFixed(1)}%)`,
    );
    expect(figure).toBeLessThan(0.2);

    // a task that runs or has finished has no estimate any more
    const later = receiver.requests.map(body).filter((b) => b.data.state !== 'queued');
    expect(later.length).toBeGreaterThanOrEqual(TASKS);
    for (const { data } of later) {
      expect(data).toMatchObject({
        estimatedStartAt: null,
        estimatedFinishAt: null,
        estimateBasis: null,
      });
    }
    const done = await api(`BT|eta-${TASKS - 1}`);
    expect(done).toMatchObject({ estimatedStartAt: null, estimateBasis: null });
  }, 120_000);

  /** GET /v1/tasks/:sid and the list carry the estimate of a queued task too. */
  async function checkTaskResponse(sid: string): Promise<void> {
    let seen: Data | undefined;
    const queued = await waitFor(
      `an estimate for ${sid} in GET /v1/tasks/:sid`,
      async () => {
        seen = (await api(sid)) as Data;
        return seen.state === 'queued' && seen.estimatedStartAt !== null ? seen : undefined;
      },
      5000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: last seen ${JSON.stringify(seen)}`);
    });
    expect(Date.parse(queued.estimatedStartAt as string)).toBeGreaterThan(Date.now());
    expect(queued.estimateBasis?.tasks).toBeGreaterThanOrEqual(3);
    const list = (await (
      await fetch(`${world.relay.url}/v1/tasks?state=queued&limit=200`, {
        headers: { Authorization: `Bearer ${world.tenant.apiKey}` },
      })
    ).json()) as { items: Data[] };
    const listed = list.items.find((item) => item.sid === sid);
    expect(listed?.estimatedStartAt).not.toBeNull();
  }

  async function api(sid: string): Promise<unknown> {
    const response = await fetch(`${world.relay.url}/v1/tasks/${encodeURIComponent(sid)}`, {
      headers: { Authorization: `Bearer ${world.tenant.apiKey}` },
    });
    expect(response.status).toBe(200);
    return response.json();
  }
});

function body(request: ReceivedRequest): Body {
  return request.json as Body;
}
