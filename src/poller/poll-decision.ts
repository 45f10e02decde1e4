import { Prisma } from '../generated/prisma/client';
import type { NewTaskEvent } from '../tasks/task-history';
import { isTerminal } from '../uxc/task-state';
import type { UxcOutcome } from '../uxc/uxc-outcome';
import type { StatusMap } from '../uxc/status-map';
import { errorBackoffDelay, nextPollAt, pollDelay, pollLane } from './cadence';
import { Observation, detectChange } from './change-detection';
import type { PollOutcome } from './poller.metrics';
import type { ClaimedTask } from '../tasks/task.store';

// Prisma wants a sentinel, not null, to store SQL NULL in a Json column
const JSON_NULL = Prisma.DbNull;

export interface PollOptions {
  /** POLL_INTERVAL_MS */
  intervalMs: number;
  /** POLL_MAX_INTERVAL_MS */
  maxIntervalMs: number;
  /** TASK_TTL: how long a task is tracked at most */
  taskTtlMs: number;
  /** UXC_ERROR_GIVE_UP: how long a run of errors lasts before the task is given up */
  errorGiveUpMs: number;
  statusMap: StatusMap;
  /** the jitter of error backoff (Math.random unless given) */
  random?: () => number;
}

/** What a poll that wrote no history changes on its task (see `PollResults`). */
export interface RecordedPoll {
  lastPolledAt: Date;
  errorSince: Date | null;
  consecutiveErrors: number;
  /** a failed poll of an ongoing run of errors also records the error it saw */
  error: { errNo: number | null; errMsg: string } | null;
}

/**
 * What one poll of a task means, decided from the task as claimed, UXC's
 * answer and the time alone:
 * - with an `event`, a history row to append and the task `changes` that go
 *   with it, in one transaction (`TaskHistory.append`);
 * - without one, the poll's bookkeeping only (`PollResults.record`).
 * `nextPollAt` null means tracking ended: the task is never polled again.
 */
export type PollDecision =
  | {
      outcome: PollOutcome;
      event: NewTaskEvent;
      changes: Prisma.TaskUncheckedUpdateInput;
      nextPollAt: Date | null;
    }
  | {
      outcome: PollOutcome;
      event?: undefined;
      changes: RecordedPoll;
      nextPollAt: Date;
    };

/** When the task's TASK_TTL runs out: it is expired at the first poll from then on. */
export function ttlDeadline(task: Pick<ClaimedTask, 'trackingSince'>, options: PollOptions): Date {
  return new Date(task.trackingSince.getTime() + options.taskTtlMs);
}

/** Whether the task is past its TTL, so that UXC need not be asked at all. */
export function isPastTtl(task: ClaimedTask, now: Date, options: PollOptions): boolean {
  return now.getTime() >= ttlDeadline(task, options).getTime();
}

/**
 * The decision for one poll. `outcome` is UXC's answer, or null when UXC was
 * not asked because the task is past its TTL (`isPastTtl`, checked before
 * asking). An answer that arrives after the TTL ran out is still recorded:
 * a task that finished just in time is told as finished, and one still
 * running is expired at its next poll, which the TTL brings forward.
 */
export function decidePoll(
  task: ClaimedTask,
  outcome: UxcOutcome | null,
  now: Date,
  options: PollOptions,
): PollDecision {
  if (outcome === null) return expire(task, now);
  return outcome.kind === 'ok'
    ? observed(task, outcome.data, now, options)
    : failed(task, outcome, now, options);
}

function observed(
  task: ClaimedTask,
  data: Parameters<typeof detectChange>[1],
  now: Date,
  options: PollOptions,
): PollDecision {
  const change = detectChange(task, data, options.statusMap);
  const { observation } = change;
  const recovered = { errorSince: null, consecutiveErrors: 0 };
  const next = nextPollAt(now, pollDelay(observation.state, observation.queueNum, options), [
    ttlDeadline(task, options),
  ]);
  if (!change.changed) {
    return {
      outcome: 'unchanged',
      changes: { lastPolledAt: now, ...recovered, error: null },
      nextPollAt: next,
    };
  }

  const terminal = isTerminal(observation.state);
  return {
    outcome: terminal ? 'completed' : 'changed',
    event: {
      type: change.type,
      ...eventFields(observation),
      previousState: task.state,
      previousStatus: task.status,
      observedAt: now,
    },
    changes: {
      ...taskFields(observation),
      updatedAt: now,
      lastPolledAt: now,
      nextPollAt: terminal ? null : next,
      ...(terminal ? { tracking: 'completed', finishedAt: now } : {}),
      ...recovered,
    },
    nextPollAt: terminal ? null : next,
  };
}

function failed(
  task: ClaimedTask,
  outcome: Exclude<UxcOutcome, { kind: 'ok' }>,
  now: Date,
  options: PollOptions,
): PollDecision {
  const errNo = outcome.kind === 'upstream-error' ? outcome.errNo : null;
  const errMsg =
    outcome.kind === 'upstream-error' ? outcome.errMsg : `${outcome.reason}: ${outcome.message}`;
  const errorSince = task.errorSince ?? now;
  const consecutiveErrors = task.consecutiveErrors + 1;
  const giveUpAt = new Date(errorSince.getTime() + options.errorGiveUpMs);
  const errorState = { errorSince, consecutiveErrors, lastErrNo: errNo, lastErrMsg: errMsg };

  if (now >= giveUpAt) {
    return {
      outcome: 'gave-up',
      event: { type: 'task.error', ...currentFields(task), errNo, errMsg, observedAt: now },
      changes: {
        ...errorState,
        tracking: 'error',
        finishedAt: now,
        updatedAt: now,
        lastPolledAt: now,
        nextPollAt: null,
      },
      nextPollAt: null,
    };
  }

  const delay = errorBackoffDelay(consecutiveErrors, {
    ...options,
    retryAfterMs: outcome.retryAfterMs,
  });
  const next = nextPollAt(now, delay, [ttlDeadline(task, options), giveUpAt]);
  // one history row per run of the same error, not one per failed poll
  const newRun =
    task.consecutiveErrors === 0 || task.lastErrNo !== errNo || task.lastErrMsg !== errMsg;
  if (!newRun) {
    return {
      outcome: outcome.kind,
      changes: { lastPolledAt: now, errorSince, consecutiveErrors, error: { errNo, errMsg } },
      nextPollAt: next,
    };
  }
  return {
    outcome: outcome.kind,
    event: {
      type: 'uxc.error',
      state: task.state,
      status: task.status,
      errNo,
      errMsg,
      observedAt: now,
    },
    changes: { ...errorState, lastPolledAt: now, nextPollAt: next },
    nextPollAt: next,
  };
}

function expire(task: ClaimedTask, now: Date): PollDecision {
  return {
    outcome: 'expired',
    event: { type: 'task.expired', ...currentFields(task), observedAt: now },
    changes: { tracking: 'expired', finishedAt: now, updatedAt: now, nextPollAt: null },
    nextPollAt: null,
  };
}

function eventFields(observation: Observation): Omit<NewTaskEvent, 'type' | 'observedAt'> {
  return {
    state: observation.state,
    status: observation.status,
    progress: observation.progress,
    queueNum: observation.queueNum,
    queueTotal: observation.queueTotal,
    costTime: observation.costTime,
    message: observation.message,
    outputResult: observation.outputResult ?? JSON_NULL,
  };
}

function taskFields(observation: Observation): Prisma.TaskUncheckedUpdateInput {
  return {
    ...eventFields(observation),
    // the claim's lane moves with the state and queue position it follows from
    pollLane: pollLane(observation.state, observation.queueNum),
    photoParameters: (observation.photoParameters as Prisma.InputJsonObject | null) ?? JSON_NULL,
    podIp: observation.podIp,
    podPort: observation.podPort,
  };
}

/** A tracking event (expired, error) carries the task as it stands, state unchanged. */
function currentFields(task: ClaimedTask): Omit<NewTaskEvent, 'type' | 'observedAt'> {
  return {
    state: task.state,
    status: task.status,
    previousState: task.state,
    previousStatus: task.status,
    progress: task.progress,
    queueNum: task.queueNum,
    queueTotal: task.queueTotal,
    costTime: task.costTime,
    message: task.message,
    outputResult: (task.outputResult as Prisma.InputJsonValue | null) ?? JSON_NULL,
  };
}
