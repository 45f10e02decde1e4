import type { UxcEnvelope, UxcTaskData } from '../uxc/uxc-response';
import { SimulatorStep } from './task-lifecycle';

export type TaskMode = 'timed' | 'manual';

/** What `GET /simulator/tasks/:sid` shows. */
export interface TaskView {
  sid: string;
  mode: TaskMode;
  step: number;
  steps: number;
  started: boolean;
  answer: UxcEnvelope<UxcTaskData | Record<string, never>>;
}

/**
 * One sid's steps and where it stands in them. Timed tasks start their clock
 * at the first poll (or at scripting, if asked), so a test can script a task
 * and then start the relay without racing it.
 */
export class SimulatedTask {
  private startedAt: number | undefined;
  private manualIndex = 0;

  constructor(
    readonly sid: string,
    readonly mode: TaskMode,
    private readonly steps: SimulatorStep[],
    startNow: boolean,
    /** when a task the simulator kept from an earlier run started */
    startedAt?: number,
  ) {
    if (steps.length === 0) throw new Error('a task needs at least one step');
    this.startedAt = startedAt ?? (startNow ? Date.now() : undefined);
  }

  /** Unix milliseconds of the first poll (or of scripting with `start: now`). */
  get started(): number | undefined {
    return this.startedAt;
  }

  /** Called on every poll: starts the clock on the first. */
  poll(): UxcEnvelope<UxcTaskData | Record<string, never>> {
    this.startedAt ??= Date.now();
    return this.answer();
  }

  /** Moves to the next step now (the last step stays); works in both modes. */
  advance(): void {
    const index = this.index();
    if (this.mode === 'manual') {
      this.manualIndex = Math.min(index + 1, this.steps.length - 1);
      return;
    }
    if (index >= this.steps.length - 1) return;
    const elapsedToNext = this.steps
      .slice(0, index + 1)
      .reduce((sum, step) => sum + (step.durationMs ?? 0), 0);
    this.startedAt = Date.now() - elapsedToNext;
  }

  view(): TaskView {
    return {
      sid: this.sid,
      mode: this.mode,
      step: this.index(),
      steps: this.steps.length,
      started: this.startedAt !== undefined,
      answer: this.answer(),
    };
  }

  private answer(): UxcEnvelope<UxcTaskData | Record<string, never>> {
    const step = this.steps[this.index()];
    if (step.errNo !== undefined && step.errNo !== 0) {
      return { errNo: step.errNo, errMsg: step.errMsg ?? 'error', data: {} };
    }
    return { errNo: 0, errMsg: 'succ', data: { sid: this.sid, ...step.data } };
  }

  private index(): number {
    if (this.mode === 'manual') return this.manualIndex;
    if (this.startedAt === undefined) return 0;
    let remaining = Date.now() - this.startedAt;
    for (let i = 0; i < this.steps.length - 1; i++) {
      remaining -= this.steps[i].durationMs ?? 0;
      if (remaining < 0) return i;
    }
    return this.steps.length - 1;
  }
}
