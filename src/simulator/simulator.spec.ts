import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UXC_TASK_GET_PATH } from '../uxc/uxc-response';
import {
  SIMULATOR_DEFAULT_AK,
  SIMULATOR_DEFAULT_SK,
  SIMULATOR_TASK_GET_PATH,
} from './simulator.constants';
import { SimulatorServer, startSimulatorServer } from './simulator-server';

const fixture = JSON.parse(
  readFileSync(join(__dirname, '../../test/fixtures/uxc/task-get.success.json'), 'utf8'),
) as { errNo: number; errMsg: string; data: Record<string, unknown> };

const DEFAULT_COOKIE = `ak=${SIMULATOR_DEFAULT_AK}; sk=${SIMULATOR_DEFAULT_SK}`;

interface Answer {
  errNo: number;
  errMsg: string;
  data: Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Type of each value, arrays and objects told apart, as a curl user comparing answers would see them. */
function shape(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, Array.isArray(v) ? 'array' : typeof v]),
  );
}

describe('UXC simulator over HTTP', () => {
  let server: SimulatorServer;

  beforeEach(async () => {
    server = await startSimulatorServer({
      lifecycle: { queuedMs: 300, queueLength: 3, queueTotal: 9, runningMs: 600, progressSteps: 3 },
    });
  });

  afterEach(() => server.close());

  async function taskGet(sid: unknown, cookie: string | null = DEFAULT_COOKIE): Promise<Answer> {
    const response = await fetch(`${server.url}/api/dispatch/task/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ sid }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Answer;
  }

  async function control(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  describe('credentials', () => {
    it('answers a non-zero errNo, still HTTP 200, for wrong or missing cookies', async () => {
      const wrongSk = await taskGet('BT|1', `ak=${SIMULATOR_DEFAULT_AK}; sk=nope`);
      expect(wrongSk).toEqual({ errNo: 3002, errMsg: 'invalid ak or sk', data: {} });
      expect((await taskGet('BT|1', 'ak=stranger; sk=x')).errNo).toBe(3002);
      expect((await taskGet('BT|1', null)).errNo).toBe(3002);
      expect(server.simulator.stats().unauthorized).toBe(3);
    });

    it('accepts a credential added through the control API, percent-encoded or not', async () => {
      const sk = 'p@ss;w=rd ü';
      expect((await control('POST', '/simulator/credentials', { ak: 'tenant-2', sk })).status).toBe(
        201,
      );
      const answer = await taskGet('BT|2', `ak=tenant-2; sk=${encodeURIComponent(sk)}`);
      expect(answer.errNo).toBe(0);
      expect((await control('POST', '/simulator/credentials', { ak: 'x' })).status).toBe(400);
    });

    it('answers errNo 1000 without a sid', async () => {
      expect(await taskGet(undefined)).toEqual({
        errNo: 1000,
        errMsg: 'sid is required',
        data: {},
      });
      expect((await taskGet('')).errNo).toBe(1000);
    });
  });

  describe('default lifecycle', () => {
    it('queues with queueNum counting down, runs with progress rising, then succeeds', async () => {
      const seen: Answer[] = [];
      for (let i = 0; i < 50; i++) {
        const answer = await taskGet('BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e');
        seen.push(answer);
        if (answer.data.status === 1) break;
        await sleep(40);
      }
      const data = seen.map((answer) => answer.data);
      const queued = data.filter((d) => d.status === 100);
      const running = data.filter((d) => d.status === 200);
      const done = data[data.length - 1];

      // the clock starts at the first poll, so the first answer is the head of the countdown;
      // later steps may be skipped when the machine is slow, but never reordered
      expect(queued[0].queueNum).toBe(3);
      expect(queued.map((d) => d.queueNum)).toEqual(
        [...queued.map((d) => d.queueNum as number)].sort((a, b) => b - a),
      );
      expect(queued.every((d) => [3, 2, 1].includes(d.queueNum as number))).toBe(true);
      expect(new Set(queued.map((d) => d.queueTotal))).toEqual(new Set([9]));

      expect(running.length).toBeGreaterThan(1);
      const progress = running.map((d) => d.progress as number);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(progress.every((p) => p >= 0 && p < 1)).toBe(true);
      expect(new Set(progress).size).toBeGreaterThan(1);

      expect(done).toMatchObject({ status: 1, progress: 1, message: 'ok', queueNum: 0 });
      expect(typeof done.costTime).toBe('number');
      expect(done.outputResult).toEqual([
        expect.stringMatching(/^cos:\/\/[^/]+\/.+\.WEBP$/),
        expect.stringMatching(/^cos:\/\/[^/]+\/.+\.WEBP$/),
      ]);
      // statuses only move forward
      const order = data.map((d) => [100, 200, 1].indexOf(d.status as number));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });

    it('answers with the keys and value types of the fixture in every phase', async () => {
      const phases = new Map<unknown, Answer>();
      for (let i = 0; i < 50 && !phases.has(1); i++) {
        const answer = await taskGet('BT|shape');
        phases.set(answer.data.status, answer);
        await sleep(40);
      }
      expect([...phases.keys()].sort()).toEqual([1, 100, 200]);
      for (const answer of phases.values()) {
        expect(shape(answer as unknown as Record<string, unknown>)).toEqual(
          shape(fixture as unknown as Record<string, unknown>),
        );
        expect(shape(answer.data)).toEqual(shape(fixture.data));
        expect(answer.data.photoParameters).toEqual(fixture.data.photoParameters);
      }
      expect(phases.get(1)?.errMsg).toBe('succ');
    });

    it('fails a sid that asks for it, with a message', async () => {
      let answer = await taskGet('BT|please-fail');
      for (let i = 0; i < 50 && answer.data.status !== 2; i++) {
        await sleep(40);
        answer = await taskGet('BT|please-fail');
      }
      expect(answer.data).toMatchObject({ status: 2, outputResult: [] });
      expect(answer.data.message).toMatch(/failed/);
    });
  });

  describe('scripted tasks', () => {
    const sids = [
      'BT|7aa93d45/with slash',
      'a b  c',
      '任务|🚀 ünïcødé',
      '100%25 literal',
      '__proto__',
    ];

    it.each(sids)('round-trips the sid %j through body and path', async (sid) => {
      const created = await control('POST', '/simulator/tasks', {
        sid,
        mode: 'manual',
        steps: [{ data: { status: 100, queueNum: 2 } }, { data: { status: 1, extra: true } }],
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        sid,
        mode: 'manual',
        step: 0,
        steps: 2,
        started: false,
      });

      expect(await taskGet(sid)).toEqual({
        errNo: 0,
        errMsg: 'succ',
        data: { sid, status: 100, queueNum: 2 },
      });
      const path = `/simulator/tasks/${encodeURIComponent(sid)}`;
      expect((await control('POST', `${path}/advance`)).body).toMatchObject({ sid, step: 1 });
      expect((await taskGet(sid)).data).toEqual({ sid, status: 1, extra: true });
      // the last step stays
      expect((await control('POST', `${path}/advance`)).body).toMatchObject({ step: 1 });
      expect((await control('GET', path)).body).toMatchObject({ sid, started: true });
      expect((await control('GET', '/simulator/stats')).body.bySid).toEqual({ [sid]: 2 });
      expect((await control('DELETE', path)).status).toBe(200);
      expect((await control('GET', path)).status).toBe(404);
    });

    it('walks timed steps from the first poll, then stays on the last', async () => {
      await control('POST', '/simulator/tasks', {
        sid: 'timed',
        steps: [
          { durationMs: 250, data: { status: 100 } },
          { durationMs: 250, errNo: 5000, errMsg: 'busy' },
          { data: { status: 1 } },
        ],
      });
      await sleep(300);
      // the clock starts at the first poll, not at scripting
      expect((await taskGet('timed')).data.status).toBe(100);
      await sleep(300);
      expect(await taskGet('timed')).toEqual({ errNo: 5000, errMsg: 'busy', data: {} });
      await sleep(300);
      expect((await taskGet('timed')).data.status).toBe(1);
      await sleep(100);
      expect((await taskGet('timed')).data.status).toBe(1);
    });

    it('advances a timed task at once', async () => {
      await control('POST', '/simulator/tasks', {
        sid: 'slow',
        steps: [{ durationMs: 60_000, data: { status: 100 } }, { data: { status: 200 } }],
      });
      expect((await taskGet('slow')).data.status).toBe(100);
      await control('POST', '/simulator/tasks/slow/advance');
      expect((await taskGet('slow')).data.status).toBe(200);
    });

    it('scripts lifecycle timings, including a failure', async () => {
      const created = await control('POST', '/simulator/tasks', {
        sid: 'ends-badly',
        mode: 'manual',
        lifecycle: {
          queuedMs: 1,
          queueLength: 1,
          runningMs: 1,
          progressSteps: 1,
          outcome: 'failed',
          failureMessage: 'OOM',
        },
      });
      expect(created.body).toMatchObject({ steps: 3 });
      await control('POST', '/simulator/tasks/ends-badly/advance');
      await control('POST', '/simulator/tasks/ends-badly/advance');
      expect((await taskGet('ends-badly')).data).toMatchObject({ status: 2, message: 'OOM' });
    });

    it.each([
      [{}, 'sid must be a non-empty string'],
      [{ sid: 'x' }, 'give either steps or lifecycle'],
      [{ sid: 'x', steps: [] }, 'steps must be a non-empty array'],
      [
        { sid: 'x', steps: [{ data: {} }, { data: {} }] },
        'steps[0].durationMs is required in timed mode (all but the last step)',
      ],
      [{ sid: 'x', mode: 'later', steps: [{}] }, 'mode must be timed or manual'],
      [
        { sid: 'x', lifecycle: { outcome: 'exploded' } },
        'lifecycle.outcome must be one of succeeded, failed, canceled',
      ],
    ])('refuses the script %j', async (body, error) => {
      expect(await control('POST', '/simulator/tasks', body)).toEqual({
        status: 400,
        body: { error },
      });
    });
  });

  describe('faults', () => {
    async function raw(
      sid: string,
    ): Promise<{ status: number; text: string; type: string | null }> {
      const response = await fetch(`${server.url}/api/dispatch/task/get`, {
        method: 'POST',
        headers: { cookie: DEFAULT_COOKIE, 'content-type': 'application/json' },
        body: JSON.stringify({ sid }),
      });
      return {
        status: response.status,
        text: await response.text(),
        type: response.headers.get('content-type'),
      };
    }

    it.each([3002, 3103, 5000])(
      'answers errNo %d for a counted number of calls of one sid',
      async (errNo) => {
        await control('POST', '/simulator/faults', { kind: 'errNo', errNo, sid: 'f', count: 2 });
        expect((await taskGet('f')).errNo).toBe(errNo);
        expect((await taskGet('other')).errNo).toBe(0);
        expect((await taskGet('f')).errNo).toBe(errNo);
        expect((await taskGet('f')).errNo).toBe(0);
      },
    );

    it('answers HTTP 502 with an HTML page, and a Retry-After when asked', async () => {
      await control('POST', '/simulator/faults', { kind: 'http-error', retryAfter: 3 });
      const response = await fetch(`${server.url}/api/dispatch/task/get`, {
        method: 'POST',
        headers: { cookie: DEFAULT_COOKIE },
        body: '{"sid":"x"}',
      });
      expect(response.status).toBe(502);
      expect(response.headers.get('content-type')).toBe('text/html');
      expect(response.headers.get('retry-after')).toBe('3');
      expect(await response.text()).toContain('<h1>502 Bad Gateway</h1>');
    });

    it('faults a share of calls when given a probability', async () => {
      await control('POST', '/simulator/faults', { kind: 'errNo', probability: 0.5 });
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => taskGet(`share-${i}`)),
      );
      const faulted = answers.filter((answer) => answer.errNo !== 0).length;
      // binomial(200, 0.5): outside 60..140 about once in 10^8 runs
      expect(faulted).toBeGreaterThan(60);
      expect(faulted).toBeLessThan(140);
      expect(
        (await control('POST', '/simulator/faults', { kind: 'hang', probability: 2 })).status,
      ).toBe(400);
    });

    it('cuts the JSON answer in the middle', async () => {
      await control('POST', '/simulator/faults', { kind: 'truncated-json', count: 1 });
      const cut = await raw('x');
      expect(cut.status).toBe(200);
      expect(cut.type).toMatch(/application\/json/);
      expect(cut.text.startsWith('{"errNo":0')).toBe(true);
      expect(() => JSON.parse(cut.text)).toThrow();
      expect(JSON.parse((await raw('x')).text).errNo).toBe(0);
    });

    it('adds latency, and hangs until the client gives up', async () => {
      await control('POST', '/simulator/faults', { kind: 'latency', ms: 150, count: 1 });
      let started = Date.now();
      expect((await taskGet('x')).errNo).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);

      await control('POST', '/simulator/faults', { kind: 'hang', sid: 'stuck' });
      started = Date.now();
      await expect(
        fetch(`${server.url}/api/dispatch/task/get`, {
          method: 'POST',
          headers: { cookie: DEFAULT_COOKIE },
          body: '{"sid":"stuck"}',
          signal: AbortSignal.timeout(300),
        }),
      ).rejects.toThrow();
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('lists, clears per sid and clears all', async () => {
      await control('POST', '/simulator/faults', { kind: 'errNo', sid: 'a' });
      await control('POST', '/simulator/faults', { kind: 'errNo', sid: 'b', errNo: 3103 });
      expect((await control('GET', '/simulator/faults')).body.items).toHaveLength(2);
      expect((await control('DELETE', '/simulator/faults?sid=a')).body.items).toEqual([
        { kind: 'errNo', sid: 'b', errNo: 3103 },
      ]);
      expect((await taskGet('a')).errNo).toBe(0);
      expect((await taskGet('b')).errNo).toBe(3103);
      await control('DELETE', '/simulator/faults');
      expect((await taskGet('b')).errNo).toBe(0);
      expect((await control('POST', '/simulator/faults', { kind: 'meteor' })).status).toBe(400);
    });
  });

  it('counts calls per sid and per ak, and forgets everything on reset', async () => {
    await control('POST', '/simulator/credentials', { ak: 'extra', sk: 'key' });
    await taskGet('one');
    await taskGet('one');
    await taskGet('two', 'ak=extra; sk=key');
    const stats = await control('GET', '/simulator/stats');
    expect(stats.body).toEqual({
      total: 3,
      bySid: { one: 2, two: 1 },
      byAk: { [SIMULATOR_DEFAULT_AK]: 2, extra: 1 },
      unauthorized: 0,
      faulted: 0,
      abandoned: 0,
    });
    const calls = await control('GET', '/simulator/calls?sid=one');
    expect(calls.body.items).toEqual([
      { at: expect.any(Number), ak: SIMULATOR_DEFAULT_AK, sid: 'one', answer: 'errNo:0' },
      { at: expect.any(Number), ak: SIMULATOR_DEFAULT_AK, sid: 'one', answer: 'errNo:0' },
    ]);

    expect((await control('POST', '/simulator/reset')).status).toBe(200);
    expect((await control('GET', '/simulator/stats')).body).toMatchObject({ total: 0, bySid: {} });
    expect((await control('GET', '/simulator/tasks/one')).status).toBe(404);
    expect((await taskGet('two', 'ak=extra; sk=key')).errNo).toBe(3002);
  });

  it('answers 404 for unknown routes and 405 for GET on the task endpoint', async () => {
    expect((await control('GET', '/nope')).status).toBe(404);
    expect((await control('GET', '/api/dispatch/task/get')).status).toBe(405);
    expect((await control('GET', '/')).body.defaultCredential).toEqual({
      ak: SIMULATOR_DEFAULT_AK,
      sk: SIMULATOR_DEFAULT_SK,
    });
  });
});

describe('a simulator with a state file', () => {
  it('carries an unscripted task on where it was after a restart, instead of queuing it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uxc-simulator-state-'));
    const stateFile = join(dir, 'simulator-tasks.json');
    const lifecycle = { queuedMs: 300, queueLength: 1, runningMs: 60_000, progressSteps: 1 };
    const statusOf = async (server: SimulatorServer, sid: string): Promise<number> => {
      const response = await fetch(`${server.url}${SIMULATOR_TASK_GET_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: DEFAULT_COOKIE },
        body: JSON.stringify({ sid }),
      });
      return ((await response.json()) as { data: { status: number } }).data.status;
    };
    try {
      const first = await startSimulatorServer({ lifecycle, stateFile });
      expect(await statusOf(first, 'BT|kept')).toBe(100);
      await first.close();
      await sleep(400);

      const second = await startSimulatorServer({ lifecycle, stateFile });
      try {
        // past its 300 ms in the queue: running, as if the simulator had never stopped
        expect(await statusOf(second, 'BT|kept')).toBe(200);
        expect(await statusOf(second, 'BT|new')).toBe(100);
      } finally {
        await second.close();
      }
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { starts: object };
      expect(Object.keys(saved.starts).sort()).toEqual(['BT|kept', 'BT|new']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the simulator as a separate program', () => {
  it('takes nothing from the relay but UXC response types', () => {
    const sources = readdirSync(__dirname).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'),
    );
    const outside = sources.flatMap((file) =>
      [
        ...readFileSync(join(__dirname, file), 'utf8').matchAll(
          // one statement at a time, however prettier wraps it
          /^import\s([^;]*?)\sfrom\s'(\.\.\/[^']*)';/gm,
        ),
      ].map(([, what, from]) => `${file}: import ${what.replace(/\s+/g, ' ')} from '${from}'`),
    );
    expect(outside.length).toBeGreaterThan(0);
    for (const line of outside)
      expect(line).toMatch(/: import type \{.*\} from '\.\.\/uxc\/uxc-response'$/);
    expect(SIMULATOR_TASK_GET_PATH).toBe(UXC_TASK_GET_PATH);
  });
});
