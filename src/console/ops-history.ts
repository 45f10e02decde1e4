/** How far back the console's health chart looks. */
export const HISTORY_SPAN_MS = 3600_000;

/**
 * The last hour of samples, oldest first, in a fixed-size ring: one sample
 * per interval fills it, and a sample older than the span is never returned
 * even when the ring is not full (the sampler may have stalled).
 */
export class OpsHistory<T extends { at: Date }> {
  private readonly slots: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(
    readonly capacity: number,
    private readonly spanMs = HISTORY_SPAN_MS,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`capacity must be a positive whole number, not ${capacity}`);
    }
    this.slots = new Array<T | undefined>(capacity);
  }

  /** Room for an hour of samples taken every `intervalMs`, and the one that starts it. */
  static forInterval<T extends { at: Date }>(intervalMs: number, spanMs = HISTORY_SPAN_MS) {
    return new OpsHistory<T>(Math.ceil(spanMs / intervalMs) + 1, spanMs);
  }

  push(sample: T): void {
    this.slots[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** The samples taken within the span before `now`, oldest first. */
  samples(now: Date = new Date()): T[] {
    const since = now.getTime() - this.spanMs;
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) {
      const sample = this.slots[(this.next - this.size + i + this.capacity) % this.capacity];
      if (sample && sample.at.getTime() >= since) out.push(sample);
    }
    return out;
  }

  /** The newest sample, if any, whatever its age. */
  latest(): T | undefined {
    return this.size === 0
      ? undefined
      : this.slots[(this.next - 1 + this.capacity) % this.capacity];
  }
}
