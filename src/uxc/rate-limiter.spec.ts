import { performance } from 'node:perf_hooks';
import { RateLimiter } from './rate-limiter';

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

describe('RateLimiter', () => {
  it('lets a burst of `rate` through at once, then never more than `rate` per second', async () => {
    const limiter = new RateLimiter(10);
    const started = performance.now();
    const grants: number[] = [];
    await Promise.all(
      Array.from({ length: 25 }, () =>
        limiter.acquire('ak-1').then(() => grants.push(performance.now() - started)),
      ),
    );
    expect(grants.filter((t) => t < 50)).toHaveLength(10);
    // grants are seen when their promise settles, which a loaded machine may
    // delay by tens of ms: the window stays short of a second by that much. A
    // refilling bucket would still let about 20 through here.
    expect(busiestWindow(grants, 900)).toBeLessThanOrEqual(10);
    // 25 calls at 10/s: the third batch cannot start before 2 s
    expect(Math.max(...grants)).toBeGreaterThanOrEqual(2040);
    expect(limiter.waiting).toBe(0);
  });

  it('keeps a bucket per key, so one key waiting does not hold up another', async () => {
    const limiter = new RateLimiter(5);
    const busy = Array.from({ length: 10 }, () => limiter.acquire('busy'));
    const started = performance.now();
    const quiet = await Promise.all(Array.from({ length: 5 }, () => limiter.acquire('quiet')));
    expect(quiet).toEqual([0, 0, 0, 0, 0]);
    // the busy key's last grants are a second away; the quiet key's are immediate
    expect(performance.now() - started).toBeLessThan(800);
    const waits = await Promise.all(busy);
    expect(waits.filter((ms) => ms > 0)).toHaveLength(5);
    expect(Math.min(...waits.filter((ms) => ms > 0))).toBeGreaterThanOrEqual(1000);
  });

  it('reports grants and waiting callers to its observer', async () => {
    const granted: number[] = [];
    const waiting: number[] = [];
    const limiter = new RateLimiter(2, {
      granted: (ms) => granted.push(ms),
      waitingChanged: (n) => waiting.push(n),
    });
    await Promise.all([limiter.acquire('k'), limiter.acquire('k'), limiter.acquire('k')]);
    expect(granted).toHaveLength(3);
    expect(granted.filter((ms) => ms === 0)).toHaveLength(2);
    expect(waiting).toEqual([1, 0]);
  });

  it('refuses a rate that is not a positive whole number', () => {
    expect(() => new RateLimiter(0)).toThrow(/whole number/);
    expect(() => new RateLimiter(1.5)).toThrow(/whole number/);
  });
});
