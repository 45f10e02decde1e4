/**
 * Wake-ups at the times tasks this process has just scheduled fall due, so a
 * task is claimed when due rather than at the next regular tick after it.
 * Times are rounded up to `bucketMs`, which bounds the set however many tasks
 * there are (at most POLL_MAX_INTERVAL_MS / bucketMs entries).
 */
export class WakeSchedule {
  private readonly due = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly onWake: () => void,
    private readonly bucketMs = 10,
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
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  private arm(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.due) if (at < next) next = at;
    if (next === Number.POSITIVE_INFINITY || (this.timer && this.timerAt <= next)) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - Date.now()) + 1);
    // a pending wake-up never keeps a process alive
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const at of this.due) if (at <= now) this.due.delete(at);
    this.onWake();
    this.arm();
  }
}
