import type { UxcTaskData } from '../uxc/uxc-response';
import type { StatusMap } from '../uxc/status-map';
import { TaskState, isTerminal } from '../uxc/task-state';

/** The fields of a task that an observation compares and records. */
export interface TaskSnapshot {
  state: string | null;
  status: number | null;
  progress: number | null;
  queueNum: number | null;
  queueTotal: number | null;
  message: string | null;
  outputResult: unknown;
}

/** What one successful UXC answer says about a task, in the task's columns. */
export interface Observation {
  state: TaskState;
  status: number | null;
  progress: number | null;
  queueNum: number | null;
  queueTotal: number | null;
  costTime: number | null;
  message: string | null;
  outputResult: string[] | null;
  photoParameters: Record<string, unknown> | null;
  podIp: string | null;
  podPort: string | null;
}

export type ChangeType = `task.${TaskState}` | 'task.progress';

export type ObservedChange =
  | { changed: false; observation: Observation; reason: 'same' | 'terminal' }
  | { changed: true; observation: Observation; type: ChangeType };

export function toObservation(data: UxcTaskData, statusMap: StatusMap): Observation {
  return {
    state: statusMap.stateOf(data.status),
    status: data.status ?? null,
    progress: data.progress ?? null,
    queueNum: data.queueNum ?? null,
    queueTotal: data.queueTotal ?? null,
    costTime: data.costTime ?? null,
    message: data.message ?? null,
    outputResult: data.outputResult ?? null,
    photoParameters: data.photoParameters ?? null,
    podIp: data.podIp ?? null,
    podPort: data.podPort ?? null,
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Compares an answer with the task as last recorded. A new state (or the very
 * first observation) is a state event; the same state with a different status,
 * progress, queue position, message or outputs is `task.progress`. A task that
 * reached a terminal state never moves again, whatever UXC says later.
 */
export function detectChange(
  current: TaskSnapshot,
  data: UxcTaskData,
  statusMap: StatusMap,
): ObservedChange {
  const observation = toObservation(data, statusMap);
  if (isTerminal(current.state)) return { changed: false, observation, reason: 'terminal' };
  if (current.state !== observation.state) {
    return { changed: true, observation, type: `task.${observation.state}` };
  }
  const same =
    current.status === observation.status &&
    current.progress === observation.progress &&
    current.queueNum === observation.queueNum &&
    current.queueTotal === observation.queueTotal &&
    current.message === observation.message &&
    sameJson(current.outputResult, observation.outputResult);
  return same
    ? { changed: false, observation, reason: 'same' }
    : { changed: true, observation, type: 'task.progress' };
}
