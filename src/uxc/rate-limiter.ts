import { Clock, REAL_CLOCK } from './rate-limiter-clock';

/**
 * Calls of one credential are spaced this far apart, divided by the rate: one
 * second plus a little, so that event-loop and network jitter between two calls
 * cannot squeeze `rate + 1` of them into one second as UXC sees it (costs 2.5%
 * of throughput).
 */
export const WINDOW_MS = 1025;

/**
 * A process takes only slots that fall due within this long: a pause that
 * another process records (UXC said "slow down") reaches every process within
 * it, and a process that took slots but then stopped wastes at most this much
 * of the credential's budget. At UXC_RATE_LIMIT=20 that is 5 slots per batch.
 */
export const LOOKAHEAD_MS = 250;

/**
 * A slot this process reaches later than this (its event loop was busy, or
 * the database's answer came late) is given up, not spent: a call that late
 * would crowd into the next process's slots, and UXC would see more than the
 * rate in that second. Together with the 25 ms WINDOW_MS keeps in hand per
 * second, it bounds how far jitter can squeeze a second's calls together.
 */
export const LATE_SLOT_MS = 50;
/** Spacings below this are not kept call by call. */
export const TIMER_RESOLUTION_MS = 5;

/** Milliseconds between two calls of one credential at `rate` per second. */
export function slotMs(rate: number): number {
  return WINDOW_MS / rate;
}

/** What a `SlotSource` handed out: calls that may go out, as offsets from now. */
export interface SlotGrant {
  /** When each granted call may go out, in ms from now, ascending; may be empty. */
  slotsInMs: number[];
  /** With nothing granted: ask again in this many ms. */
  retryInMs: number;
}

/**
 * Where the slots of each credential are kept. The shared one is a row per
 * credential in PostgreSQL (`RateBucketStore`), so every process on the
 * database draws from one budget; `LocalSlots` keeps them in memory.
 */
export interface SlotSource {
  /** Takes up to `want` slots of `key` due within LOOKAHEAD_MS, spaced `slotMs(rate)` apart. */
  take(key: string, want: number): Promise<SlotGrant>;
  /** No slot of `key` is handed out for the next `ms` milliseconds, to any process. */
  pause(key: string, ms: number): Promise<void>;
}

/**
 * The rule both stores follow: the next slot is the later of the bucket's
 * next free slot, now, and the end of a pause; slots further out than the
 * lookahead are not handed out yet.
 */
export function grantSlots(
  bucket: { nextSlotAt: number; pausedUntil: number },
  now: number,
  want: number,
  spacingMs: number,
): { grant: SlotGrant; nextSlotAt: number } {
  const first = Math.max(bucket.nextSlotAt, now, bucket.pausedUntil);
  if (first > now + LOOKAHEAD_MS || want <= 0) {
    return {
      grant: { slotsInMs: [], retryInMs: Math.max(0, first - LOOKAHEAD_MS - now) },
      nextSlotAt: bucket.nextSlotAt,
    };
  }
  const n = Math.min(want, Math.floor((now + LOOKAHEAD_MS - first) / spacingMs) + 1);
  return {
    grant: {
      slotsInMs: Array.from({ length: n }, (_, i) => first - now + i * spacingMs),
      retryInMs: 0,
    },
    nextSlotAt: first + n * spacingMs,
  };
}

/** Slots kept in this process only, on the clock given. */
export class LocalSlots implements SlotSource {
  private readonly buckets = new Map<string, { nextSlotAt: number; pausedUntil: number }>();
  private readonly spacingMs: number;

  constructor(
    rate: number,
    private readonly clock: Clock = REAL_CLOCK,
  ) {
    this.spacingMs = slotMs(rate);
  }

  take(key: string, want: number): Promise<SlotGrant> {
    const bucket = this.bucket(key);
    const { grant, nextSlotAt } = grantSlots(bucket, this.clock.now(), want, this.spacingMs);
    bucket.nextSlotAt = nextSlotAt;
    return Promise.resolve(grant);
  }

  pause(key: string, ms: number): Promise<void> {
    const bucket = this.bucket(key);
    bucket.pausedUntil = Math.max(bucket.pausedUntil, this.clock.now() + ms);
    return Promise.resolve();
  }

  private bucket(key: string): { nextSlotAt: number; pausedUntil: number } {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { nextSlotAt: 0, pausedUntil: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

/**
 * How many urgent callers may go ahead of one that is not: past that it keeps
 * its place, so the callers that are not get at least a tenth of the tokens
 * however many urgent ones keep coming.
 */
export const MAX_OVERTAKEN = 9;

/** When the source cannot be asked (database gone for a moment), ask again after this. */
const SOURCE_RETRY_MS = 500;
/** Asking again a little later than told spreads processes that were told the same time. */
const RETRY_JITTER_MS = 10;

interface Waiter {
  enqueuedAt: number;
  /** Goes ahead of the waiters that are not (see `RateLimiter.acquire`). */
  urgent: boolean;
  /** How many urgent waiters went ahead of this one. */
  overtaken: number;
  /** Had to wait for a later slot (not only for the source's answer): the rate held it back. */
  heldBack: boolean;
  resolve: (waitedMs: number) => void;
}

/**
 * One credential's callers in this process: they wait in line (FIFO, the
 * urgent ones ahead of the others) while
 * the bucket draws slots from the source in small batches, and each is let go
 * at its slot's time.
 */
class CredentialQueue {
  private readonly waiters: Waiter[] = [];
  /** Granted slots, as times on the clock, ascending. */
  private slots: number[] = [];
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private lastGrantAt = Number.NEGATIVE_INFINITY;
  private asking = false;
  /** Do not ask the source before this (it said when it would have slots again). */
  private askAfter = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly key: string,
    private readonly source: SlotSource,
    private readonly clock: Clock,
    private readonly spacingMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  get idle(): boolean {
    return this.waiters.length === 0 && this.slots.length === 0 && !this.asking && !this.timer;
  }

  enqueue(urgent: boolean): Promise<number> {
    return new Promise((resolve) => {
      const waiter = {
        enqueuedAt: this.clock.now(),
        urgent,
        overtaken: 0,
        heldBack: false,
        resolve,
      };
      // the waiters that are not urgent were overtaken the more the earlier
      // they came: the urgent one goes before the first that may still be
      const at = urgent
        ? this.waiters.findIndex((other) => !other.urgent && other.overtaken < MAX_OVERTAKEN)
        : -1;
      if (at < 0) {
        this.waiters.push(waiter);
      } else {
        for (let i = at; i < this.waiters.length; i++) {
          if (!this.waiters[i].urgent) this.waiters[i].overtaken++;
        }
        this.waiters.splice(at, 0, waiter);
      }
      this.pump();
    });
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    // slots taken before the pause would fall inside it: give them up
    this.slots = [];
    this.pump();
  }

  private pump(): void {
    const now = this.clock.now();
    if (now < this.pausedUntil) {
      if (this.waiters.length > 0) this.wakeAt(this.pausedUntil);
      return;
    }
    while (this.waiters.length > 0 && this.slots.length > 0 && this.slots[0] <= now) {
      if (now > this.slots[0] + LATE_SLOT_MS) {
        this.slots.shift();
        continue;
      }
      // slots that reached this process late are not let go at once: each call
      // keeps its spacing, where a timer can keep it (below a few ms, one timer
      // per call would itself become the limit: 200 calls a second at any rate)
      if (this.spacingMs >= TIMER_RESOLUTION_MS && now < this.lastGrantAt + this.spacingMs) {
        this.slots[0] = this.lastGrantAt + this.spacingMs;
        break;
      }
      this.slots.shift();
      this.lastGrantAt = now;
      const waiter = this.waiters.shift() as Waiter;
      waiter.resolve(waiter.heldBack ? now - waiter.enqueuedAt : 0);
    }
    const wanted = this.waiters.length - this.slots.length;
    if (wanted > 0 && !this.asking) {
      if (now >= this.askAfter) void this.ask(wanted);
      else this.wakeAt(this.askAfter);
    }
    if (this.waiters.length > 0 && this.slots.length > 0) this.wakeAt(this.slots[0]);
  }

  private async ask(want: number): Promise<void> {
    this.asking = true;
    try {
      const grant = await this.source.take(this.key, want);
      // offsets count from the answer: a slot is let go at its time or a little after, never before
      const received = this.clock.now();
      if (received >= this.pausedUntil) {
        for (const inMs of grant.slotsInMs) this.slots.push(received + inMs);
      }
      if (grant.slotsInMs.length === 0) {
        this.askAfter = received + grant.retryInMs + Math.random() * RETRY_JITTER_MS;
      }
    } catch (error) {
      this.onError(error);
      this.askAfter = this.clock.now() + SOURCE_RETRY_MS;
    } finally {
      this.asking = false;
    }
    this.pump();
  }

  private wakeAt(at: number): void {
    for (const waiter of this.waiters) waiter.heldBack = true;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, Math.ceil(at - this.clock.now())),
    );
  }
}

export interface RateLimiterObserver {
  /** Called once per granted token with how long the caller waited for it. */
  granted?(waitedMs: number): void;
  /** Called when the number of callers waiting (all keys) changes. */
  waitingChanged?(waiting: number): void;
  /** The slot source failed; callers keep waiting and it is asked again shortly. */
  sourceFailed?(error: unknown): void;
}

export interface RateLimiterOptions {
  /** Where slots come from; by default this process alone (`LocalSlots`). */
  source?: SlotSource;
  clock?: Clock;
  observer?: RateLimiterObserver;
}

/**
 * Calls per credential (the `ak`), so one busy business party cannot use up
 * another's share. Callers await their turn; however many call at once, in
 * however many processes sharing the source, a key's calls are spaced
 * `WINDOW_MS / rate` apart, so no second holds more than `ratePerSecond`.
 */
export class RateLimiter {
  private readonly queues = new Map<string, CredentialQueue>();
  private readonly source: SlotSource;
  private readonly clock: Clock;
  private readonly observer: RateLimiterObserver;
  private waitingTotal = 0;

  constructor(
    readonly ratePerSecond: number,
    options: RateLimiterOptions = {},
  ) {
    if (!Number.isInteger(ratePerSecond) || ratePerSecond < 1) {
      throw new Error(`rate must be a whole number of requests per second, got ${ratePerSecond}`);
    }
    this.clock = options.clock ?? REAL_CLOCK;
    this.source = options.source ?? new LocalSlots(ratePerSecond, this.clock);
    this.observer = options.observer ?? {};
  }

  /**
   * Resolves once a call for `key` may go out, with the milliseconds it was
   * held back by the rate (0 when a slot was free at once, however long the
   * source took to say so). An `urgent` caller goes ahead of the callers of
   * `key` waiting that are not, each of which lets at most MAX_OVERTAKEN
   * go ahead: the rate is the same, who waits is not.
   */
  async acquire(key: string, urgent = false): Promise<number> {
    this.forgetIdleQueues();
    this.changeWaiting(+1);
    const waitedMs = await this.queue(key).enqueue(urgent);
    this.changeWaiting(-1);
    this.observer.granted?.(waitedMs);
    return waitedMs;
  }

  /**
   * UXC asked to slow down: no call with `key` goes out for `ms`, from this
   * process at once, and from every process sharing the source from their next batch.
   */
  async pause(key: string, ms: number): Promise<void> {
    this.queue(key).pause(ms);
    await this.source.pause(key, ms);
  }

  /** Callers currently waiting for a token, over all keys. */
  get waiting(): number {
    return this.waitingTotal;
  }

  private queue(key: string): CredentialQueue {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = new CredentialQueue(
        key,
        this.source,
        this.clock,
        slotMs(this.ratePerSecond),
        (error) => this.observer.sourceFailed?.(error),
      );
      this.queues.set(key, queue);
    }
    return queue;
  }

  private changeWaiting(delta: number): void {
    this.waitingTotal += delta;
    this.observer.waitingChanged?.(this.waitingTotal);
  }

  // keys come and go with tenants; a queue with nobody waiting holds no state worth keeping
  private forgetIdleQueues(): void {
    if (this.queues.size < 1024) return;
    for (const [key, queue] of this.queues) if (queue.idle) this.queues.delete(key);
  }
}
