export const TASK_STATES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'canceled',
  'unknown',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'canceled']);

export function isTerminal(state: TaskState | string | null | undefined): boolean {
  return state != null && TERMINAL_STATES.has(state as TaskState);
}
