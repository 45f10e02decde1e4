import { Clock, EPOCH_CLOCK } from '../uxc/rate-limiter-clock';

/**
 * Wake-ups at the times tasks this process has just scheduled fall due, so a
 * task is claimed when due rather than at the next regular tick after it.
 * Times are rounded up to `bucketMs`, which bounds the set however many tasks
 * there are (at most POLL_MAX_INTERVAL_MS / bucketMs entries).
 */
export class WakeSchedule {
  private readonly due = new Set<number>();
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly onWake: () => void,
    private readonly bucketMs = 10,
    private readonly clock: Clock = EPOCH_CLOCK,
  ) {}

  /** Wake at `atMs` (epoch milliseconds), or within `bucketMs` after it. */
  add(atMs: number): void {
    if (this.stopped) return;
    this.due.add(Math.ceil(atMs / this.bucketMs) * this.bucketMs);
    this.arm();
  }

  get pending(): number {
    return this.due.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  private arm(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.due) if (at < next) next = at;
    if (next === Number.POSITIVE_INFINITY || (this.timer !== undefined && this.timerAt <= next)) {
      return;
    }
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = next;
    // the real clocks' timers never keep a process alive
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, next - this.clock.now()) + 1);
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (const at of this.due) if (at <= now) this.due.delete(at);
    this.onWake();
    this.arm();
  }
}
