/**
 * The ETA of a queued task, as a pure function of what the relay saw of the
 * tenant's queue: no database, no clock but the `now` it is given.
 */

/** `queued`: a queue position seen; `started`: queued → running; `finished`: succeeded. */
export type ObservationKind = 'queued' | 'started' | 'finished';

/** One observation of one of the tenant's tasks, as the poller recorded it. */
export interface QueueObservation {
  taskId: string;
  kind: ObservationKind;
  /** the position, on `queued` observations */
  queueNum: number | null;
  /** UXC's costTime, on `finished` observations that have one */
  runSeconds: number | null;
  at: Date;
}

/** How fast a tenant's queue drains and how long its tasks run, and what that rests on. */
export interface DrainStatistics {
  /** tasks whose fall in the queue was measured */
  tasks: number;
  /** from the oldest observation used to the moment the statistics were made */
  windowSeconds: number;
  /** queue places per minute, the median over those tasks; null below MIN_TASKS */
  drainPerMinute: number | null;
  /** finished tasks whose run time was measured */
  finishedTasks: number;
  /** their median run time; null below MIN_TASKS */
  runSeconds: number | null;
}

/** Fewer measured tasks than this is "too little history": no estimate. */
export const MIN_TASKS = 3;

/**
 * Each task's own fall through the queue, from the first to the last position
 * it was seen to *enter* (a start counts as entering position 0), and the
 * median of those rates. The first sighting of a task is not an entry: the
 * task may have sat at that place for a while already. A median over tasks,
 * not one windowed sum, so one stuck or reordered task does not move it.
 */
export function drainStatistics(
  observations: readonly QueueObservation[],
  now: Date,
  options: { windowMs: number },
): DrainStatistics {
  const since = now.getTime() - options.windowMs;
  const byTask = new Map<string, QueueObservation[]>();
  for (const observation of observations) {
    const at = observation.at.getTime();
    if (at <= since || at > now.getTime()) continue;
    const list = byTask.get(observation.taskId) ?? [];
    list.push(observation);
    byTask.set(observation.taskId, list);
  }

  const rates: number[] = [];
  const runs: number[] = [];
  let oldest = now.getTime();
  for (const list of byTask.values()) {
    list.sort((a, b) => a.at.getTime() - b.at.getTime());
    const entries: { queueNum: number; at: number }[] = [];
    let position: number | undefined;
    let startedAt: number | undefined;
    for (const observation of list) {
      const at = observation.at.getTime();
      if (observation.kind === 'queued' && isPosition(observation.queueNum)) {
        if (position !== undefined && observation.queueNum !== position) {
          entries.push({ queueNum: observation.queueNum, at });
        }
        position = observation.queueNum;
      } else if (observation.kind === 'started') {
        if (position !== undefined) entries.push({ queueNum: 0, at });
        position = undefined;
        startedAt = at;
      } else if (observation.kind === 'finished') {
        const run =
          observation.runSeconds !== null && observation.runSeconds > 0
            ? observation.runSeconds
            : startedAt !== undefined
              ? (at - startedAt) / 1000
              : null;
        if (run !== null && run > 0) {
          runs.push(run);
          oldest = Math.min(oldest, at);
        }
      }
    }
    if (entries.length < 2) continue;
    const first = entries[0];
    const last = entries[entries.length - 1];
    const places = first.queueNum - last.queueNum;
    const seconds = (last.at - first.at) / 1000;
    if (places <= 0 || seconds <= 0) continue;
    rates.push(places / seconds);
    oldest = Math.min(oldest, first.at);
  }

  const drain = rates.length >= MIN_TASKS ? median(rates) : null;
  return {
    tasks: rates.length,
    windowSeconds: Math.round((now.getTime() - oldest) / 1000),
    drainPerMinute: drain === null ? null : round(drain * 60, 3),
    finishedTasks: runs.length,
    runSeconds: runs.length >= MIN_TASKS ? round(median(runs), 2) : null,
  };
}

/** What a queued task's responses and webhook bodies say of when it will start and finish. */
export interface TaskEstimate {
  estimatedStartAt: Date | null;
  estimatedFinishAt: Date | null;
  /** what the estimates rest on; null when the task is not queued */
  estimateBasis: DrainStatistics | null;
}

export const NO_ESTIMATE: TaskEstimate = {
  estimatedStartAt: null,
  estimatedFinishAt: null,
  estimateBasis: null,
};

/**
 * A queued task at `queueNum` since `positionSince` starts when the queue has
 * drained that many places: `positionSince + queueNum / drain` (never before
 * `now`: a late queue has not started it yet), and finishes a median run time
 * later. Anything but a queued task has no estimate.
 */
export function estimateTask(
  task: { state: string | null; queueNum: number | null; positionSince: Date },
  statistics: DrainStatistics | null,
  now: Date,
): TaskEstimate {
  if (task.state !== 'queued') return NO_ESTIMATE;
  const basis = statistics ?? {
    tasks: 0,
    windowSeconds: 0,
    drainPerMinute: null,
    finishedTasks: 0,
    runSeconds: null,
  };
  if (basis.drainPerMinute === null || !isPosition(task.queueNum)) {
    return { estimatedStartAt: null, estimatedFinishAt: null, estimateBasis: basis };
  }
  const waitMs = (task.queueNum / basis.drainPerMinute) * 60_000;
  const start = Math.round(Math.max(now.getTime(), task.positionSince.getTime() + waitMs));
  return {
    estimatedStartAt: new Date(start),
    estimatedFinishAt:
      basis.runSeconds === null ? null : new Date(Math.round(start + basis.runSeconds * 1000)),
    estimateBasis: basis,
  };
}

function isPosition(queueNum: number | null): queueNum is number {
  return queueNum !== null && Number.isFinite(queueNum) && queueNum >= 0;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
