import { decideAfterAttempt, RETRY_JITTER, scheduledDelay } from './retry-policy';

const SCHEDULE = [5000, 30000, 120000];
const answer = (statusCode: number | null, retryAfterMs: number | null = null) => ({
  statusCode,
  retryAfterMs,
});

describe('scheduledDelay', () => {
  it('follows the schedule, attempt by attempt, then gives up', () => {
    const middle = () => 0.5;
    expect(scheduledDelay(1, SCHEDULE, middle)).toBe(5000);
    expect(scheduledDelay(2, SCHEDULE, middle)).toBe(30000);
    expect(scheduledDelay(3, SCHEDULE, middle)).toBe(120000);
    expect(scheduledDelay(4, SCHEDULE, middle)).toBeNull();
    expect(scheduledDelay(13, SCHEDULE, middle)).toBeNull();
  });

  it('jitters by at most ±20%', () => {
    expect(scheduledDelay(2, SCHEDULE, () => 0)).toBe(30000 * (1 - RETRY_JITTER));
    expect(scheduledDelay(2, SCHEDULE, () => 0.999999)).toBeCloseTo(30000 * (1 + RETRY_JITTER), -1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const delay = scheduledDelay(1, SCHEDULE) as number;
      expect(delay).toBeGreaterThanOrEqual(4000);
      expect(delay).toBeLessThanOrEqual(6000);
      seen.add(delay);
    }
    expect(seen.size).toBeGreaterThan(50);
  });

  it('has no delay before a first attempt', () => {
    expect(scheduledDelay(0, SCHEDULE)).toBeNull();
  });
});

describe('decideAfterAttempt', () => {
  const middle = () => 0.5;

  it('succeeds on any 2xx', () => {
    for (const status of [200, 201, 202, 204, 299]) {
      expect(decideAfterAttempt(answer(status), 1, SCHEDULE)).toEqual({ kind: 'succeeded' });
    }
  });

  it('treats 410 as gone, even on the last attempt', () => {
    expect(decideAfterAttempt(answer(410), 1, SCHEDULE)).toEqual({ kind: 'gone' });
    expect(decideAfterAttempt(answer(410), 9, SCHEDULE)).toEqual({ kind: 'gone' });
  });

  it('retries other answers, redirects and network errors on the schedule', () => {
    for (const status of [301, 302, 400, 404, 429, 500, 503, null]) {
      expect(decideAfterAttempt(answer(status), 2, SCHEDULE, middle)).toEqual({
        kind: 'retry',
        delayMs: 30000,
      });
    }
  });

  it('honours a Retry-After instead of the schedule', () => {
    expect(decideAfterAttempt(answer(429, 7000), 1, SCHEDULE, middle)).toEqual({
      kind: 'retry',
      delayMs: 7000,
    });
    expect(decideAfterAttempt(answer(503, 3_600_000), 3, SCHEDULE, middle)).toEqual({
      kind: 'retry',
      delayMs: 3_600_000,
    });
  });

  it('fails once the schedule is used up, Retry-After or not', () => {
    expect(decideAfterAttempt(answer(500), 4, SCHEDULE)).toEqual({ kind: 'failed' });
    expect(decideAfterAttempt(answer(429, 1000), 4, SCHEDULE)).toEqual({ kind: 'failed' });
    // a redelivery by hand is one more attempt: it fails again at once
    expect(decideAfterAttempt(answer(null), 5, SCHEDULE)).toEqual({ kind: 'failed' });
  });
});
