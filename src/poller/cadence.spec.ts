import { NEAR_HEAD_QUEUE_NUM, errorBackoffDelay, nextPollAt, pollDelay, pollLane } from './cadence';

const defaults = { intervalMs: 2000, maxIntervalMs: 30000 };

describe('pollDelay', () => {
  it('polls running, unknown and not yet observed tasks at the base interval', () => {
    expect(pollDelay('running', 0, defaults)).toBe(2000);
    expect(pollDelay('unknown', null, defaults)).toBe(2000);
    expect(pollDelay(null, null, defaults)).toBe(2000);
  });

  it('polls a queued task near the head as often as a running one', () => {
    for (let queueNum = 0; queueNum <= NEAR_HEAD_QUEUE_NUM; queueNum++) {
      expect(pollDelay('queued', queueNum, defaults)).toBe(2000);
    }
    expect(pollDelay('queued', null, defaults)).toBe(2000);
  });

  it('polls less often the further back a task is queued, never beyond the maximum', () => {
    const delays = [3, 4, 10, 28, 29, 100, 100000].map((q) => pollDelay('queued', q, defaults));
    expect(delays).toEqual([3000, 4000, 10000, 28000, 29000, 30000, 30000]);
    for (let q = 1; q < 200; q++) {
      expect(pollDelay('queued', q + 1, defaults)).toBeGreaterThanOrEqual(
        pollDelay('queued', q, defaults),
      );
    }
  });

  it('treats a nonsensical queue position as the head', () => {
    expect(pollDelay('queued', -5, defaults)).toBe(2000);
    expect(pollDelay('queued', Number.NaN, defaults)).toBe(2000);
  });
});

describe('errorBackoffDelay', () => {
  const at = (n: number, random: number, retryAfterMs?: number): number =>
    errorBackoffDelay(n, { ...defaults, random: () => random, retryAfterMs });

  it('doubles from the base interval with jitter between half and all of the ceiling', () => {
    expect([1, 2, 3, 4].map((n) => at(n, 1))).toEqual([2000, 4000, 8000, 16000]);
    expect([1, 2, 3, 4].map((n) => at(n, 0))).toEqual([2000, 2000, 4000, 8000]);
  });

  it('is capped at the maximum interval however long the errors last', () => {
    expect(at(5, 1)).toBe(30000);
    expect(at(1000, 1)).toBe(30000);
    expect(at(1000, 0)).toBe(15000);
  });

  it('honours Retry-After, within the maximum interval', () => {
    expect(at(1, 0, 10000)).toBe(10000);
    expect(at(1, 0, 3_600_000)).toBe(30000);
    expect(at(4, 1, 100)).toBe(16000);
  });

  it('spreads tasks that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => errorBackoffDelay(4, defaults)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('nextPollAt', () => {
  const now = new Date('2026-11-27T05:00:00.000Z');

  it('is now plus the delay when no deadline comes sooner', () => {
    expect(nextPollAt(now, 2000, [null, new Date(now.getTime() + 5000)])).toEqual(
      new Date(now.getTime() + 2000),
    );
  });

  it('stops at the earliest deadline, never in the past', () => {
    const deadlines = [new Date(now.getTime() + 900), new Date(now.getTime() + 400)];
    expect(nextPollAt(now, 2000, deadlines)).toEqual(new Date(now.getTime() + 400));
    expect(nextPollAt(now, 2000, [new Date(now.getTime() - 1000)])).toEqual(now);
  });
});

describe('pollLane', () => {
  it('puts running, unknown and not yet observed tasks in lane 0', () => {
    expect(pollLane('running', null)).toBe(0);
    expect(pollLane('unknown', null)).toBe(0);
    expect(pollLane(null, null)).toBe(0);
  });

  it('puts a queued task near the head, or of unknown position, in lane 0', () => {
    for (let queueNum = 0; queueNum <= NEAR_HEAD_QUEUE_NUM; queueNum++) {
      expect(pollLane('queued', queueNum)).toBe(0);
    }
    expect(pollLane('queued', null)).toBe(0);
  });

  it('puts a queued task behind the head in lane 1', () => {
    for (const queueNum of [NEAR_HEAD_QUEUE_NUM + 1, 10, 300, 100000]) {
      expect(pollLane('queued', queueNum)).toBe(1);
    }
  });

  it('agrees with the cadence: lane 0 is exactly the tasks polled at the base interval', () => {
    const options = { intervalMs: 2000, maxIntervalMs: 30000 };
    for (const state of ['queued', 'running', null] as const) {
      for (const queueNum of [null, 0, 1, 2, 3, 50]) {
        const base = pollDelay(state, queueNum, options) === options.intervalMs;
        expect(pollLane(state, queueNum) === 0).toBe(base);
      }
    }
  });
});
