import { TASK_STATES, TaskState } from './task-state';

export const DEFAULT_STATUS_MAP =
  '1:succeeded,2:failed,100:queued,200:running,999:failed,1000:canceled';

/** UXC `status` code → lifecycle state; a code outside the map is `unknown`. */
export class StatusMap {
  constructor(private readonly entries: ReadonlyMap<number, TaskState>) {}

  static parse(text: string): StatusMap {
    const entries = new Map<number, TaskState>();
    for (const pair of text.split(',')) {
      const trimmed = pair.trim();
      if (!trimmed) continue;
      const match = /^(-?\d+)\s*:\s*([a-z]+)$/.exec(trimmed);
      if (!match) throw new Error(`"${trimmed}" is not of the form <code>:<state>`);
      const code = Number(match[1]);
      const state = match[2] as TaskState;
      if (!TASK_STATES.includes(state)) {
        throw new Error(`"${match[2]}" is not a state (one of ${TASK_STATES.join(', ')})`);
      }
      if (entries.has(code)) throw new Error(`status ${code} is mapped twice`);
      entries.set(code, state);
    }
    if (entries.size === 0) throw new Error('the map is empty');
    return new StatusMap(entries);
  }

  stateOf(status: number | null | undefined): TaskState {
    if (status == null) return 'unknown';
    return this.entries.get(status) ?? 'unknown';
  }

  toJSON(): Record<string, TaskState> {
    return Object.fromEntries(this.entries);
  }
}
