import type { TaskState } from '../uxc/task-state';

export interface CadenceOptions {
  /** POLL_INTERVAL_MS: how often a running task is asked about. */
  intervalMs: number;
  /** POLL_MAX_INTERVAL_MS: no active task waits longer than this between polls. */
  maxIntervalMs: number;
}

/**
 * Queue positions this close to the head are polled like a running task: the
 * task may start any moment, and its subscribers want to hear of it at once.
 */
export const NEAR_HEAD_QUEUE_NUM = 2;

/**
 * Delay until the next poll of a task UXC has just answered for.
 *
 * A queued task moves one place per task finished ahead of it, so the further
 * back it is, the longer its state stays the same: each place beyond the head
 * adds half an interval, up to the maximum. With the defaults (2 s, 30 s) a task
 * 3rd in line is polled every 3 s, 10th every 10 s, 29th and beyond every 30 s.
 */
export function pollDelay(
  state: TaskState | null,
  queueNum: number | null,
  options: CadenceOptions,
): number {
  const { intervalMs, maxIntervalMs } = options;
  if (state !== 'queued' || queueNum === null || !(queueNum > NEAR_HEAD_QUEUE_NUM)) {
    return intervalMs;
  }
  const factor = 1 + (queueNum - NEAR_HEAD_QUEUE_NUM) / 2;
  return Math.min(maxIntervalMs, Math.round(intervalMs * factor));
}

/**
 * The poller's claim lanes (`tasks.poll_lane`). Lane 0 holds the tasks whose
 * next change someone is waiting for: running, not yet observed, and queued
 * near the head. Lane 1 holds the tasks deeper in UXC's queue, whose answer
 * will most likely be "one place further". The claim gives lane 1 a fixed
 * share of each batch (`LANE_1_SHARE` in the task store) and lane 0 the rest,
 * so a deep queue can neither crowd out the running tasks nor starve.
 */
export type PollLane = 0 | 1;

/** The lane a task is claimed in, from its state and queue position as last observed. */
export function pollLane(state: TaskState | string | null, queueNum: number | null): PollLane {
  return state === 'queued' && queueNum !== null && queueNum > NEAR_HEAD_QUEUE_NUM ? 1 : 0;
}

/**
 * Delay after the `consecutiveErrors`-th failed poll in a row (1 = the first):
 * exponential from the base interval, with jitter so that many tasks failing
 * together (an upstream outage) do not come back in one burst. A Retry-After
 * from UXC is honoured, within the same cap.
 */
export function errorBackoffDelay(
  consecutiveErrors: number,
  options: CadenceOptions & { retryAfterMs?: number; random?: () => number },
): number {
  const { intervalMs, maxIntervalMs, retryAfterMs } = options;
  const random = options.random ?? Math.random;
  const exponent = Math.min(Math.max(consecutiveErrors, 1) - 1, 30);
  const ceiling = Math.min(maxIntervalMs, intervalMs * 2 ** exponent);
  // "equal jitter": between half and all of the ceiling, never less than the base interval
  const jittered = Math.max(intervalMs, ceiling / 2 + (ceiling / 2) * random());
  const honoured = Math.max(jittered, retryAfterMs ?? 0);
  return Math.round(Math.min(maxIntervalMs, honoured));
}

/**
 * The time of the next poll, never past a deadline the task must be looked at
 * by (its TTL, or the moment its run of errors reaches UXC_ERROR_GIVE_UP).
 */
export function nextPollAt(now: Date, delayMs: number, deadlines: (Date | null)[] = []): Date {
  let at = now.getTime() + delayMs;
  for (const deadline of deadlines) {
    if (deadline !== null) at = Math.min(at, Math.max(deadline.getTime(), now.getTime()));
  }
  return new Date(at);
}
