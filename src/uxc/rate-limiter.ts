import { performance } from 'node:perf_hooks';

/**
 * A spent token comes back this long after it was spent: one second, plus a
 * little so that event-loop and network jitter between two batches cannot
 * squeeze them into one second as UXC sees it (costs 2.5% of throughput).
 */
const WINDOW_MS = 1025;

interface Waiter {
  enqueuedAt: number;
  resolve: (waitedMs: number) => void;
}

/**
 * One credential's bucket of `rate` tokens. A token spent at t comes back at
 * t + 1 s (plus the margin above) rather than trickling back continuously: a
 * classic bucket lets a full burst plus a second's refill through within one
 * second (2× the rate), while this one never lets more than `rate` requests
 * into any 1-second window, which is what the business party agreed with UXC.
 */
class CredentialBucket {
  /** Times the last tokens were spent, oldest first; never longer than `rate`. */
  private readonly spent: number[] = [];
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly rate: number) {}

  get waiting(): number {
    return this.waiters.length;
  }

  get idle(): boolean {
    return this.waiters.length === 0 && this.available(performance.now()) === this.rate;
  }

  /** Spends a token now if one is free and nobody is queued ahead (FIFO: no overtaking). */
  tryTake(): boolean {
    const now = performance.now();
    if (this.waiters.length > 0 || this.available(now) === 0) return false;
    this.spend(now);
    return true;
  }

  /** Waits in line for a token; resolves with the milliseconds waited. */
  enqueue(): Promise<number> {
    return new Promise((resolve) => {
      this.waiters.push({ enqueuedAt: performance.now(), resolve });
      this.schedule();
    });
  }

  private available(now: number): number {
    while (this.spent.length > 0 && now - this.spent[0] >= WINDOW_MS) this.spent.shift();
    return this.rate - this.spent.length;
  }

  private spend(now: number): void {
    this.spent.push(now);
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return;
    const delay = Math.max(0, this.spent[0] + WINDOW_MS - performance.now());
    // timers may fire a little early; `release` checks the clock again
    this.timer = setTimeout(() => this.release(), Math.ceil(delay));
  }

  private release(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.waiters.length > 0 && this.available(now) > 0) {
      const waiter = this.waiters.shift() as Waiter;
      this.spend(now);
      waiter.resolve(now - waiter.enqueuedAt);
    }
    this.schedule();
  }
}

export interface RateLimiterObserver {
  /** Called once per granted token with how long the caller waited for it. */
  granted?(waitedMs: number): void;
  /** Called when the number of callers waiting (all keys) changes. */
  waitingChanged?(waiting: number): void;
}

/**
 * Token buckets keyed by credential (the `ak`), so one busy business party
 * cannot use up another's share. Callers await their token; however many call
 * at once, a key never gets more than `ratePerSecond` tokens in any second.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, CredentialBucket>();
  private waitingTotal = 0;

  constructor(
    readonly ratePerSecond: number,
    private readonly observer: RateLimiterObserver = {},
  ) {
    if (!Number.isInteger(ratePerSecond) || ratePerSecond < 1) {
      throw new Error(`rate must be a whole number of requests per second, got ${ratePerSecond}`);
    }
  }

  /** Resolves with the milliseconds waited once a token for `key` is granted. */
  async acquire(key: string): Promise<number> {
    this.forgetIdleBuckets();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new CredentialBucket(this.ratePerSecond);
      this.buckets.set(key, bucket);
    }
    let waitedMs = 0;
    if (!bucket.tryTake()) {
      this.changeWaiting(+1);
      waitedMs = await bucket.enqueue();
      this.changeWaiting(-1);
    }
    this.observer.granted?.(waitedMs);
    return waitedMs;
  }

  /** Callers currently waiting for a token, over all keys. */
  get waiting(): number {
    return this.waitingTotal;
  }

  private changeWaiting(delta: number): void {
    this.waitingTotal += delta;
    this.observer.waitingChanged?.(this.waitingTotal);
  }

  // keys come and go with tenants; a bucket that is full again holds no state worth keeping
  private forgetIdleBuckets(): void {
    if (this.buckets.size < 1024) return;
    for (const [key, bucket] of this.buckets) if (bucket.idle) this.buckets.delete(key);
  }
}
