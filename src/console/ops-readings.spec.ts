import { callsBetween, MetricReading, pollLagBetween } from './ops-readings';

const reading = (
  lagSum: number,
  lagCount: number,
  calls: Record<string, [number, number]> = {},
): MetricReading => ({
  at: new Date(),
  lagSum,
  lagCount,
  polls: lagCount,
  uxcOutcomes: new Map(),
  uxcByCredential: new Map(
    Object.entries(calls).map(([ak, [requests, errors]]) => [ak, { requests, errors }]),
  ),
});

describe('the deltas of the ops readings', () => {
  it('gives the mean poll lag of the interval, not of the process lifetime', () => {
    // 100 polls 10 s late, then 10 polls 0.5 s late: the recent mean is 0.5 s
    expect(pollLagBetween(reading(1000, 100), reading(1005, 110))).toBe(0.5);
    expect(pollLagBetween(undefined, reading(1000, 100))).toBe(10);
  });

  it('has no poll lag for an interval without polls', () => {
    expect(pollLagBetween(reading(1000, 100), reading(1000, 100))).toBeNull();
  });

  it('counts the UXC calls of the interval per credential, leaving out the idle ones', () => {
    const calls = callsBetween(
      reading(0, 0, { 'ak-a': [10, 2], 'ak-b': [5, 0] }),
      reading(0, 0, { 'ak-a': [14, 3], 'ak-b': [5, 0], 'ak-c': [1, 1] }),
    );
    expect([...calls]).toEqual([
      ['ak-a', { requests: 4, errors: 1 }],
      ['ak-c', { requests: 1, errors: 1 }],
    ]);
  });
});
