import {
  LATE_SLOT_MS,
  LOOKAHEAD_MS,
  LocalSlots,
  MAX_OVERTAKEN,
  RateLimiter,
  WINDOW_MS,
  grantSlots,
} from './rate-limiter';
import { ManualClock } from './rate-limiter-clock';

/** Largest number of grants inside any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Starts `n` acquires of `key` and records the clock time each is granted at. */
function acquireMany(limiter: RateLimiter, clock: ManualClock, key: string, n: number) {
  const times: number[] = [];
  const all = Promise.all(
    Array.from({ length: n }, () => limiter.acquire(key).then(() => times.push(clock.now()))),
  );
  return { times, all };
}

describe('RateLimiter', () => {
  it('spaces a key calls WINDOW_MS / rate apart, so no second holds more than `rate`', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, { clock });
    const { times, all } = acquireMany(limiter, clock, 'ak-1', 25);
    await clock.advance(5000);
    await all;
    expect(times).toHaveLength(25);
    expect(times[0]).toBe(0);
    expect(busiestWindow(times, 1000)).toBe(10);
    const spacing = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.min(...spacing)).toBeGreaterThanOrEqual(WINDOW_MS / 10 - 1);
    expect(Math.max(...times)).toBeGreaterThanOrEqual((24 * WINDOW_MS) / 10 - 1);
    expect(limiter.waiting).toBe(0);
  });

  it('lets an urgent caller go ahead of the waiting callers that are not, at the same rate', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, { clock });
    const order: string[] = [];
    const times: number[] = [];
    const take = (name: string, urgent: boolean) =>
      limiter.acquire('ak', urgent).then(() => {
        order.push(name);
        times.push(clock.now());
      });
    const all = [
      ...['deep-1', 'deep-2', 'deep-3', 'deep-4'].map((name) => take(name, false)),
      take('urgent-1', true),
      take('urgent-2', true),
    ];
    await clock.advance(2000);
    await Promise.all(all);
    expect(order).toEqual(['urgent-1', 'urgent-2', 'deep-1', 'deep-2', 'deep-3', 'deep-4']);
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(10);
    const spacing = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.min(...spacing)).toBeGreaterThanOrEqual(WINDOW_MS / 10 - 1);
  });

  it('lets no caller be overtaken more than MAX_OVERTAKEN times', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, { clock });
    const order: string[] = [];
    const take = (name: string, urgent: boolean) =>
      limiter.acquire('ak', urgent).then(() => order.push(name));
    const all = [take('deep', false)];
    for (let i = 0; i < MAX_OVERTAKEN + 5; i++) all.push(take(`urgent-${i}`, true));
    await clock.advance(5000);
    await Promise.all(all);
    expect(order.indexOf('deep')).toBe(MAX_OVERTAKEN);
  });

  it('holds the rate for several limiters drawing on one source, as processes share the database', async () => {
    const clock = new ManualClock();
    const shared = new LocalSlots(5, clock);
    const limiters = [1, 2, 3].map(() => new RateLimiter(5, { clock, source: shared }));
    const runs = limiters.map((limiter) => acquireMany(limiter, clock, 'ak', 10));
    await clock.advance(8000);
    await Promise.all(runs.map((run) => run.all));
    const all = runs.flatMap((run) => run.times);
    expect(all).toHaveLength(30);
    expect(busiestWindow(all, 1000)).toBeLessThanOrEqual(5);
    // each took part: nobody is starved while another drains its queue
    for (const run of runs) expect(Math.min(...run.times)).toBeLessThan(2 * WINDOW_MS);
  });

  it('keeps a queue per key, so one key waiting does not hold up another', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(5, { clock });
    const busy = acquireMany(limiter, clock, 'busy', 10);
    const quiet = acquireMany(limiter, clock, 'quiet', 2);
    await clock.advance(WINDOW_MS / 5);
    await quiet.all;
    expect(quiet.times).toEqual([0, WINDOW_MS / 5]);
    expect(busy.times).toHaveLength(2);
    await clock.advance(3000);
    await busy.all;
    expect(Math.max(...busy.times)).toBeCloseTo((9 * WINDOW_MS) / 5, 0);
  });

  it('lets no call of a paused key go out until the pause ends, then carries on', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(5, { clock });
    const first = acquireMany(limiter, clock, 'ak', 1);
    await clock.advance(0);
    await first.all;
    await limiter.pause('ak', 3000);
    const later = acquireMany(limiter, clock, 'ak', 3);
    await clock.advance(2999);
    expect(later.times).toEqual([]);
    await clock.advance(2000);
    await later.all;
    expect(later.times[0]).toBeGreaterThanOrEqual(3000);
    expect(later.times[0]).toBeLessThan(3000 + LOOKAHEAD_MS);
  });

  it('gives up a slot reached too late rather than crowding the next one', async () => {
    const clock = new ManualClock();
    const shared = new LocalSlots(5, clock);
    const stalled = new RateLimiter(5, { clock, source: shared });
    const run = acquireMany(stalled, clock, 'ak', 2);
    await clock.advance(0);
    expect(run.times).toEqual([0]);
    // the second slot (at 205 ms) is due while the event loop is busy for 400 ms
    clock.stall(400);
    await clock.advance(0);
    expect(run.times).toEqual([0]);
    await clock.advance(1000);
    await run.all;
    expect(run.times[1]).toBeGreaterThanOrEqual(400);
    expect(run.times[1] - 400).toBeLessThanOrEqual(LATE_SLOT_MS + WINDOW_MS / 5);
  });

  it('reports grants and waiting callers to its observer', async () => {
    const clock = new ManualClock();
    const granted: number[] = [];
    const waiting: number[] = [];
    const limiter = new RateLimiter(2, {
      clock,
      observer: { granted: (ms) => granted.push(ms), waitingChanged: (n) => waiting.push(n) },
    });
    const run = Promise.all([limiter.acquire('k'), limiter.acquire('k'), limiter.acquire('k')]);
    await clock.advance(2000);
    await run;
    // timers run on whole milliseconds, never before the slot
    expect(granted).toEqual([0, Math.ceil(WINDOW_MS / 2), Math.ceil(WINDOW_MS / 2) * 2]);
    expect(waiting).toEqual([1, 2, 3, 2, 1, 0]);
  });

  it('keeps asking a source that failed, letting nobody through meanwhile', async () => {
    const clock = new ManualClock();
    let failures = 1;
    const local = new LocalSlots(5, clock);
    const errors: unknown[] = [];
    const limiter = new RateLimiter(5, {
      clock,
      source: {
        take: (key, want) =>
          failures-- > 0 ? Promise.reject(new Error('database gone')) : local.take(key, want),
        pause: (key, ms) => local.pause(key, ms),
      },
      observer: { sourceFailed: (error) => errors.push(error) },
    });
    const run = acquireMany(limiter, clock, 'k', 1);
    await clock.advance(100);
    expect(run.times).toEqual([]);
    await clock.advance(1000);
    await run.all;
    expect(errors).toHaveLength(1);
    expect(run.times[0]).toBeGreaterThanOrEqual(500);
  });

  it('refuses a rate that is not a positive whole number', () => {
    expect(() => new RateLimiter(0)).toThrow(/whole number/);
    expect(() => new RateLimiter(1.5)).toThrow(/whole number/);
  });
});

describe('grantSlots', () => {
  const spacing = WINDOW_MS / 20;

  it('hands out the slots due within the lookahead, no more than wanted', () => {
    const { grant, nextSlotAt } = grantSlots({ nextSlotAt: 0, pausedUntil: 0 }, 1000, 100, spacing);
    expect(grant.slotsInMs).toHaveLength(Math.floor(LOOKAHEAD_MS / spacing) + 1);
    expect(grant.slotsInMs[0]).toBe(0);
    expect(nextSlotAt).toBeCloseTo(1000 + grant.slotsInMs.length * spacing);
    const few = grantSlots({ nextSlotAt: 0, pausedUntil: 0 }, 1000, 2, spacing);
    expect(few.grant.slotsInMs).toEqual([0, spacing]);
  });

  it('says when to ask again while the next slot or a pause is beyond the lookahead', () => {
    const later = grantSlots({ nextSlotAt: 2000, pausedUntil: 0 }, 1000, 1, spacing);
    expect(later.grant).toEqual({ slotsInMs: [], retryInMs: 1000 - LOOKAHEAD_MS });
    expect(later.nextSlotAt).toBe(2000);
    const paused = grantSlots({ nextSlotAt: 0, pausedUntil: 4000 }, 1000, 1, spacing);
    expect(paused.grant.retryInMs).toBe(3000 - LOOKAHEAD_MS);
  });
});
