import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import {
  buildWebhookHeaders,
  buildWebhookPayload,
  buildWebhookTestPayload,
  generateWebhookMessageId,
  generateWebhookSecret,
  serializeWebhookPayload,
  TaskEventPayloadInput,
} from '../src/webhooks';
import { WebhookSender } from '../src/dispatcher/webhook-sender';
import { waitFor } from './support/wait';

const RECEIVER = path.join(__dirname, '..', 'examples', 'receiver', 'receiver.js');

interface RunningReceiver {
  child: ChildProcess;
  url: string;
  stdout: string[];
  stderr: string[];
}

/** Starts the example receiver exactly as a user would, on a port the OS picks. */
async function startReceiver(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningReceiver> {
  const child = spawn(process.execPath, [RECEIVER, '--port', '0', ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running: RunningReceiver = { child, url: '', stdout: [], stderr: [] };
  collectLines(child.stdout!, running.stdout);
  collectLines(child.stderr!, running.stderr);
  const listening = await waitFor('the receiver to listen', () =>
    running.stdout.find((l) => l.startsWith('listening on ')),
  );
  running.url = `${listening.match(/http:\/\/\S+\//)![0]}uxc`;
  return running;
}

function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    into.push(...lines);
  });
}

function event(overrides: Partial<TaskEventPayloadInput> = {}): TaskEventPayloadInput {
  return {
    type: 'task.running',
    observedAt: new Date('2026-11-27T05:00:01.234Z'),
    subscriptionId: 'sub_a',
    sid: 'BT|7aa93d45-6c1e-4b8a',
    sequence: 2,
    state: 'running',
    previousState: 'queued',
    status: 200,
    previousStatus: 100,
    progress: 0.4,
    queueNum: 0,
    queueTotal: 0,
    costTime: null,
    message: null,
    outputResult: null,
    metadata: {},
    ...overrides,
  };
}

describe('examples/receiver', () => {
  const secret = generateWebhookSecret();
  const sender = new WebhookSender({ timeoutMs: 5000, allowPrivateNetworks: true });
  let receiver: RunningReceiver;

  /** Posts one signed message the way the relay does; returns status and parsed answer. */
  async function post(
    body: string,
    opts: { id?: string; secrets?: string[]; headers?: Record<string, string> } = {},
  ): Promise<{ status: number | null; answer: unknown }> {
    const headers =
      opts.headers ??
      buildWebhookHeaders(opts.id ?? generateWebhookMessageId(), body, opts.secrets ?? [secret]);
    const result = await sender.send(receiver.url, headers, body);
    expect(result.error).toBeNull();
    return { status: result.statusCode, answer: JSON.parse(result.responseBody ?? 'null') };
  }

  const taskBody = (overrides: Partial<TaskEventPayloadInput> = {}): string =>
    serializeWebhookPayload(buildWebhookPayload(event(overrides)));

  /** Event lines printed so far (the `listening` line is not one). */
  const printed = (): string[] => receiver.stdout.filter((l) => !l.startsWith('listening on'));

  beforeAll(async () => {
    receiver = await startReceiver(['--secret', secret]);
  });

  afterAll(async () => {
    sender.close();
    if (receiver.child.exitCode === null) {
      receiver.child.kill('SIGTERM');
      await once(receiver.child, 'exit');
    }
  });

  it('accepts a correctly signed event and prints it as one line', async () => {
    const { status, answer } = await post(taskBody({ sequence: 2 }));
    expect(status).toBe(200);
    expect(answer).toEqual({ ok: true });
    const line = await waitFor('a printed event', () => printed()[0]);
    expect(line).toBe(
      '2026-11-27T05:00:01Z task.running   BT|7aa9…  seq=2 running progress=0.40 queue=0/0',
    );
  });

  it('answers 401 to a message signed with another secret, and prints nothing', async () => {
    const before = printed().length;
    const { status, answer } = await post(taskBody({ sequence: 3 }), {
      secrets: [generateWebhookSecret()],
    });
    expect(status).toBe(401);
    expect(answer).toEqual({ error: 'invalid signature' });
    await waitFor('the receiver to complain', () =>
      receiver.stderr.find((l) => l.includes('bad or missing signature')),
    );
    expect(printed()).toHaveLength(before);
  });

  it('answers 401 to an unsigned message and to a tampered body', async () => {
    const body = taskBody({ sequence: 3 });
    const unsigned = await post(body, { headers: { 'content-type': 'application/json' } });
    expect(unsigned.status).toBe(401);
    const signed = buildWebhookHeaders(generateWebhookMessageId(), body, [secret]);
    const tampered = await post(body.replace('"sequence":3', '"sequence":30'), { headers: signed });
    expect(tampered.status).toBe(401);
  });

  it('acknowledges a repeated webhook-id without processing it again', async () => {
    const id = generateWebhookMessageId();
    const body = taskBody({ sequence: 5, progress: 0.6 });
    const first = await post(body, { id });
    const repeat = await post(body, { id });
    expect([first.status, repeat.status]).toEqual([200, 200]);
    expect(repeat.answer).toEqual({ ok: true, duplicate: true });
    await waitFor('the receiver to complain', () =>
      receiver.stderr.find((l) => l === `duplicate ${id}: already handled`),
    );
    expect(printed().filter((l) => l.includes('seq=5'))).toHaveLength(1);
  });

  it('acknowledges and ignores sequences at or below the highest seen for a subscription', async () => {
    const before = printed().length;
    const lower = await post(taskBody({ sequence: 4, progress: 0.5 }));
    const equal = await post(taskBody({ sequence: 5, progress: 0.7 }));
    expect(lower).toEqual({ status: 200, answer: { ok: true, stale: true } });
    expect(equal).toEqual({ status: 200, answer: { ok: true, stale: true } });
    await waitFor('the receiver to complain', () =>
      receiver.stderr.find((l) => l.includes('sequence 5 <= 5 of sub_a')),
    );
    expect(printed()).toHaveLength(before);

    // Another subscription keeps its own sequence.
    const other = await post(
      taskBody({
        subscriptionId: 'sub_b',
        sequence: 1,
        type: 'task.queued',
        state: 'queued',
        previousState: null,
        progress: null,
        queueNum: 3,
        queueTotal: 9,
      }),
    );
    expect(other.answer).toEqual({ ok: true });
    expect(await waitFor('a printed event', () => printed()[before])).toBe(
      '2026-11-27T05:00:01Z task.queued    BT|7aa9…  seq=1 queued queue=3/9',
    );
  });

  it('prints a final state with its cost, output and message', async () => {
    const before = printed().length;
    await post(
      taskBody({
        type: 'task.succeeded',
        sequence: 9,
        state: 'succeeded',
        previousState: 'running',
        status: 1,
        progress: 1,
        costTime: 66.59,
        message: 'ok',
        outputResult: ['cos://bucket/a.png', 'cos://bucket/b.png'],
      }),
    );
    expect(await waitFor('a printed event', () => printed()[before])).toBe(
      '2026-11-27T05:00:01Z task.succeeded BT|7aa9…  seq=9 succeeded progress=1.00 queue=0/0 cost=66.59s output=cos://bucket/a.png (+1) message="ok"',
    );
  });

  it('verifies during a secret rotation, when its secret is one of two signatures', async () => {
    const before = printed().length;
    const body = serializeWebhookPayload(
      buildWebhookTestPayload({ callbackUrl: receiver.url, now: new Date('2026-11-27T06:00:00Z') }),
    );
    const { status } = await post(body, { secrets: [generateWebhookSecret(), secret] });
    expect(status).toBe(200);
    expect(await waitFor('a printed event', () => printed()[before])).toMatch(
      /^2026-11-27T06:00:00Z webhook\.test {3}Test webhook from uxc-relay/,
    );
  });

  it('takes the secret from WEBHOOK_SECRET, and refuses to start without a valid one', async () => {
    const fromEnv = await startReceiver([], { WEBHOOK_SECRET: secret });
    try {
      const body = taskBody({ sequence: 1 });
      const headers = buildWebhookHeaders(generateWebhookMessageId(), body, [secret]);
      expect((await sender.send(fromEnv.url, headers, body)).statusCode).toBe(200);
    } finally {
      fromEnv.child.kill('SIGTERM');
      await once(fromEnv.child, 'exit');
    }

    const missing = spawn(process.execPath, [RECEIVER, '--port', '0'], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    collectLines(missing.stderr, stderr);
    const [code] = (await once(missing, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr.join('\n')).toContain('WEBHOOK_SECRET');

    const malformed = spawn(process.execPath, [RECEIVER, '--port', '0', '--secret', 'hunter2!'], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const malformedErr: string[] = [];
    collectLines(malformed.stderr, malformedErr);
    const [malformedCode] = (await once(malformed, 'exit')) as [number];
    expect(malformedCode).toBe(1);
    expect(malformedErr.join('\n')).toContain('whsec_ followed by base64');
    expect(malformedErr.join('\n')).not.toContain('hunter2');
  });
});
