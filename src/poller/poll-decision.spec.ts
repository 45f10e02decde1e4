import { DEFAULT_STATUS_MAP, StatusMap } from '../uxc/status-map';
import type { UxcOutcome } from '../uxc/uxc-outcome';
import type { UxcTaskData } from '../uxc/uxc-response';
import { PollOptions, decidePoll, isPastTtl } from './poll-decision';
import type { ClaimedTask } from '../tasks/task.store';

const options: PollOptions = {
  intervalMs: 2000,
  maxIntervalMs: 30000,
  taskTtlMs: 3_600_000,
  errorGiveUpMs: 600_000,
  statusMap: StatusMap.parse(DEFAULT_STATUS_MAP),
  // the top of the jitter: the ceiling itself
  random: () => 1,
};

const T0 = new Date('2026-12-04T10:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const task = (overrides: Partial<ClaimedTask> = {}): ClaimedTask => ({
  id: 'task_1',
  tenantId: 'ten_1',
  sid: 'BT|1',
  state: 'running',
  status: 200,
  progress: 0.2,
  queueNum: 0,
  queueTotal: 0,
  costTime: null,
  message: 'running',
  outputResult: null,
  trackingSince: T0,
  errorSince: null,
  consecutiveErrors: 0,
  lastErrNo: null,
  lastErrMsg: null,
  uxcAk: 'ak',
  uxcSkEnc: 'sealed',
  pollLane: 0,
  hasSubscribers: true,
  lagMs: 0,
  ...overrides,
});

const ok = (data: UxcTaskData): UxcOutcome => ({
  kind: 'ok',
  data,
  raw: { errNo: 0, errMsg: '', data },
  durationMs: 5,
});
const running = (progress: number): UxcOutcome =>
  ok({ status: 200, progress, queueNum: 0, queueTotal: 0, message: 'running' });
const upstream = (errNo: number, errMsg: string, retryAfterMs?: number): UxcOutcome => ({
  kind: 'upstream-error',
  errNo,
  errMsg,
  retryAfterMs,
  durationMs: 5,
});
const timeout: UxcOutcome = {
  kind: 'transport-error',
  reason: 'timeout',
  message: 'no answer within 500 ms',
  durationMs: 500,
};

describe('decidePoll: answers', () => {
  it('records an unchanged answer without history, polled again one interval on', () => {
    const decision = decidePoll(task(), running(0.2), at(60_000), options);
    expect(decision).toEqual({
      outcome: 'unchanged',
      changes: { lastPolledAt: at(60_000), errorSince: null, consecutiveErrors: 0, error: null },
      nextPollAt: at(62_000),
    });
  });

  it('turns a change into an event and the task fields that go with it', () => {
    const decision = decidePoll(task(), running(0.6), at(60_000), options);
    expect(decision.outcome).toBe('changed');
    expect(decision.event).toMatchObject({
      type: 'task.progress',
      state: 'running',
      previousState: 'running',
      progress: 0.6,
      observedAt: at(60_000),
    });
    expect(decision.changes).toMatchObject({
      progress: 0.6,
      lastPolledAt: at(60_000),
      nextPollAt: at(62_000),
      errorSince: null,
      consecutiveErrors: 0,
    });
    expect(decision.nextPollAt).toEqual(at(62_000));
  });

  it('completes a task on a terminal answer: tracking ends and it is never polled again', () => {
    const decision = decidePoll(
      task(),
      ok({ status: 1, progress: 1, outputResult: ['cos://b/k'], message: 'done' }),
      at(60_000),
      options,
    );
    expect(decision).toMatchObject({
      outcome: 'completed',
      event: { type: 'task.succeeded', state: 'succeeded', previousState: 'running' },
      changes: { tracking: 'completed', finishedAt: at(60_000), nextPollAt: null },
      nextPollAt: null,
    });
  });

  it('ends an error run at the first good answer', () => {
    const failing = task({ errorSince: T0, consecutiveErrors: 3, lastErrNo: 5000 });
    const decision = decidePoll(failing, running(0.2), at(60_000), options);
    expect(decision).toMatchObject({
      outcome: 'unchanged',
      changes: { errorSince: null, consecutiveErrors: 0, error: null },
    });
  });

  it('polls a task far back in the queue less often', () => {
    const queued = task({ state: 'queued', status: 100, queueNum: 10, message: 'queued' });
    const decision = decidePoll(
      queued,
      ok({ status: 100, progress: 0.2, queueNum: 10, queueTotal: 0, message: 'queued' }),
      at(60_000),
      options,
    );
    expect(decision.nextPollAt).toEqual(at(70_000));
  });

  it('moves a task between the claim lanes as its queue position changes', () => {
    const queued = task({ state: 'queued', status: 100, queueNum: 10, message: 'queued' });
    const answer = (queueNum: number): UxcOutcome =>
      ok({ status: 100, progress: 0.2, queueNum, queueTotal: 0, message: 'queued' });
    expect(decidePoll(queued, answer(2), at(60_000), options).changes).toMatchObject({
      queueNum: 2,
      pollLane: 0,
    });
    expect(decidePoll(task(), answer(10), at(60_000), options).changes).toMatchObject({
      queueNum: 10,
      pollLane: 1,
    });
    expect(decidePoll(queued, running(0.2), at(60_000), options).changes).toMatchObject({
      state: 'running',
      pollLane: 0,
    });
  });
});

describe('decidePoll: error runs', () => {
  it('opens a run with one uxc.error row and backs off', () => {
    const decision = decidePoll(task(), upstream(5000, 'internal error'), at(60_000), options);
    expect(decision).toMatchObject({
      outcome: 'upstream-error',
      event: { type: 'uxc.error', state: 'running', errNo: 5000, errMsg: 'internal error' },
      changes: {
        errorSince: at(60_000),
        consecutiveErrors: 1,
        lastErrNo: 5000,
        lastErrMsg: 'internal error',
        nextPollAt: at(62_000),
      },
      nextPollAt: at(62_000),
    });
  });

  it('records a repeat of the same error without a history row, backing off further', () => {
    const failing = task({
      errorSince: T0,
      consecutiveErrors: 2,
      lastErrNo: 5000,
      lastErrMsg: 'internal error',
    });
    const decision = decidePoll(failing, upstream(5000, 'internal error'), at(60_000), options);
    expect(decision).toEqual({
      outcome: 'upstream-error',
      changes: {
        lastPolledAt: at(60_000),
        errorSince: T0,
        consecutiveErrors: 3,
        error: { errNo: 5000, errMsg: 'internal error' },
      },
      // third in a row: 2 s × 2² = 8 s at the top of the jitter
      nextPollAt: at(68_000),
    });
  });

  it('starts a new run (a new row) when the error differs, keeping when the errors began', () => {
    const failing = task({
      errorSince: T0,
      consecutiveErrors: 2,
      lastErrNo: 5000,
      lastErrMsg: 'internal error',
    });
    const decision = decidePoll(failing, timeout, at(60_000), options);
    expect(decision).toMatchObject({
      outcome: 'transport-error',
      event: { type: 'uxc.error', errNo: null, errMsg: 'timeout: no answer within 500 ms' },
      changes: { errorSince: T0, consecutiveErrors: 3 },
    });
  });

  it('honours Retry-After within the maximum interval', () => {
    const decision = decidePoll(task(), upstream(3103, 'busy', 9000), at(60_000), options);
    expect(decision.nextPollAt).toEqual(at(69_000));
    const capped = decidePoll(task(), upstream(3103, 'busy', 600_000), at(60_000), options);
    expect(capped.nextPollAt).toEqual(at(90_000));
  });

  it('never schedules the next poll past the moment the run reaches UXC_ERROR_GIVE_UP', () => {
    const failing = task({
      errorSince: at(-590_000),
      consecutiveErrors: 9,
      lastErrNo: 5000,
      lastErrMsg: 'internal error',
    });
    const decision = decidePoll(failing, upstream(5000, 'internal error'), T0, options);
    expect(decision.nextPollAt).toEqual(at(10_000));
  });

  it('gives up once the run has lasted UXC_ERROR_GIVE_UP: task.error, tracking error, no next poll', () => {
    const failing = task({
      errorSince: at(-600_000),
      consecutiveErrors: 9,
      lastErrNo: 5000,
      lastErrMsg: 'internal error',
      progress: 0.4,
    });
    const decision = decidePoll(failing, upstream(5000, 'internal error'), T0, options);
    expect(decision).toMatchObject({
      outcome: 'gave-up',
      event: {
        type: 'task.error',
        state: 'running',
        previousState: 'running',
        progress: 0.4,
        errNo: 5000,
        errMsg: 'internal error',
      },
      changes: { tracking: 'error', finishedAt: T0, nextPollAt: null, consecutiveErrors: 10 },
      nextPollAt: null,
    });
  });

  it('gives up on a first error only when UXC_ERROR_GIVE_UP is zero', () => {
    expect(decidePoll(task(), timeout, T0, options).outcome).toBe('transport-error');
    expect(decidePoll(task(), timeout, T0, { ...options, errorGiveUpMs: 0 }).outcome).toBe(
      'gave-up',
    );
  });
});

describe('decidePoll: TTL', () => {
  it('is past the TTL from trackingSince + TASK_TTL on', () => {
    expect(isPastTtl(task(), at(3_599_999), options)).toBe(false);
    expect(isPastTtl(task(), at(3_600_000), options)).toBe(true);
  });

  it('expires a task UXC was not asked about: task.expired with the state as it stands', () => {
    const decision = decidePoll(task({ progress: 0.7 }), null, at(3_600_000), options);
    expect(decision).toMatchObject({
      outcome: 'expired',
      event: {
        type: 'task.expired',
        state: 'running',
        previousState: 'running',
        progress: 0.7,
        observedAt: at(3_600_000),
      },
      changes: { tracking: 'expired', finishedAt: at(3_600_000), nextPollAt: null },
      nextPollAt: null,
    });
  });

  it('brings the next poll forward to the TTL, so the task is expired on time', () => {
    const decision = decidePoll(task(), running(0.2), at(3_599_000), options);
    expect(decision.nextPollAt).toEqual(at(3_600_000));
    const failing = decidePoll(task(), timeout, at(3_599_500), options);
    expect(failing.nextPollAt).toEqual(at(3_600_000));
  });

  it('still records an answer that arrives after the TTL ran out', () => {
    const decision = decidePoll(task(), ok({ status: 1, progress: 1 }), at(3_600_500), options);
    expect(decision.outcome).toBe('completed');
  });
});
