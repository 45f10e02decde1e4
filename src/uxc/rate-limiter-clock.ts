import { performance } from 'node:perf_hooks';

/** Time and timers, injectable so specs can move time by hand. */
export interface Clock {
  /** Milliseconds: on a monotonic scale (`REAL_CLOCK`) or since the epoch (`EPOCH_CLOCK`). */
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (run, ms) => {
    const timer = setTimeout(run, ms);
    // a pending wake-up never keeps a process alive on its own
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Wall-clock time, for schedules kept in epoch milliseconds (e.g. from `next_poll_at`). */
export const EPOCH_CLOCK: Clock = { ...REAL_CLOCK, now: () => Date.now() };

/** A clock that moves only when told to: timers run in `advance`, in time order. */
export class ManualClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; run: () => void }>();

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  setTimeout(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), run });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time on by `ms` without running any timer, as a busy event loop does. */
  stall(ms: number): void {
    this.current += ms;
  }

  /** Moves time on by `ms`, running every timer due on the way (and the promises they settle). */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      await flush();
      let nextId: number | undefined;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && timer.at < nextAt) {
          nextAt = timer.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.current = Math.max(this.current, timer.at);
      timer.run();
    }
    this.current = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
