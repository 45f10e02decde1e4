import type { UxcTaskData } from '../uxc/uxc-response';
import { LifecycleOptions, SimulatorOutcome, SimulatorStep } from './task-lifecycle';
import { TaskMode } from './simulated-task';

/**
 * The body of `POST /simulator/tasks`: a sid and either explicit `steps` or
 * `lifecycle` timings over the default lifecycle.
 */
export interface TaskScript {
  sid: string;
  /** `timed` (default) walks the steps by their durations; `manual` waits for `advance`. */
  mode?: TaskMode;
  /** `first-poll` (default) starts a timed task's clock when it is first polled. */
  start?: 'first-poll' | 'now';
  steps?: SimulatorStep[];
  lifecycle?: Partial<LifecycleOptions>;
}

const OUTCOMES: SimulatorOutcome[] = ['succeeded', 'failed', 'canceled'];
const LIFECYCLE_NUMBERS = [
  'queuedMs',
  'queueLength',
  'queueTotal',
  'runningMs',
  'progressSteps',
  'outputCount',
] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a control-API body; returns the problem, or the script. */
export function parseTaskScript(body: unknown): TaskScript | string {
  if (!isObject(body)) return 'body must be a JSON object';
  if (typeof body.sid !== 'string' || body.sid === '') return 'sid must be a non-empty string';
  const script: TaskScript = { sid: body.sid };
  if (body.mode !== undefined) {
    if (body.mode !== 'timed' && body.mode !== 'manual') return 'mode must be timed or manual';
    script.mode = body.mode;
  }
  if (body.start !== undefined) {
    if (body.start !== 'first-poll' && body.start !== 'now')
      return 'start must be first-poll or now';
    script.start = body.start;
  }
  if ((body.steps === undefined) === (body.lifecycle === undefined)) {
    return 'give either steps or lifecycle';
  }
  if (body.steps !== undefined) {
    const steps = parseSteps(body.steps, script.mode ?? 'timed');
    if (typeof steps === 'string') return steps;
    script.steps = steps;
  } else {
    const lifecycle = parseLifecycle(body.lifecycle);
    if (typeof lifecycle === 'string') return lifecycle;
    script.lifecycle = lifecycle;
  }
  return script;
}

function parseSteps(value: unknown, mode: TaskMode): SimulatorStep[] | string {
  if (!Array.isArray(value) || value.length === 0) return 'steps must be a non-empty array';
  const steps: SimulatorStep[] = [];
  for (const [index, item] of value.entries()) {
    if (!isObject(item)) return `steps[${index}] must be an object`;
    const step: SimulatorStep = {};
    if (item.durationMs !== undefined) {
      if (typeof item.durationMs !== 'number' || !(item.durationMs >= 0)) {
        return `steps[${index}].durationMs must be a number of milliseconds`;
      }
      step.durationMs = item.durationMs;
    } else if (mode === 'timed' && index < value.length - 1) {
      return `steps[${index}].durationMs is required in timed mode (all but the last step)`;
    }
    if (item.data !== undefined) {
      if (!isObject(item.data)) return `steps[${index}].data must be an object`;
      // deliberately unchecked: a script may answer wrong types to test the relay's validation
      step.data = item.data as UxcTaskData;
    }
    if (item.errNo !== undefined) {
      if (!Number.isInteger(item.errNo)) return `steps[${index}].errNo must be an integer`;
      step.errNo = item.errNo as number;
    }
    if (item.errMsg !== undefined) {
      if (typeof item.errMsg !== 'string') return `steps[${index}].errMsg must be a string`;
      step.errMsg = item.errMsg;
    }
    steps.push(step);
  }
  return steps;
}

function parseLifecycle(value: unknown): Partial<LifecycleOptions> | string {
  if (!isObject(value)) return 'lifecycle must be an object';
  const lifecycle: Partial<LifecycleOptions> = {};
  for (const key of LIFECYCLE_NUMBERS) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'number' || !((value[key] as number) >= 0)) {
      return `lifecycle.${key} must be a non-negative number`;
    }
    lifecycle[key] = value[key] as number;
  }
  if (value.outcome !== undefined) {
    if (!OUTCOMES.includes(value.outcome as SimulatorOutcome)) {
      return `lifecycle.outcome must be one of ${OUTCOMES.join(', ')}`;
    }
    lifecycle.outcome = value.outcome as SimulatorOutcome;
  }
  if (value.failureMessage !== undefined) {
    if (typeof value.failureMessage !== 'string')
      return 'lifecycle.failureMessage must be a string';
    lifecycle.failureMessage = value.failureMessage;
  }
  return lifecycle;
}
