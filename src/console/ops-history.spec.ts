import { OpsHistory } from './ops-history';

const HOUR = 3600_000;
const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => ({ at: new Date(t0 + ms), n: ms });

describe('OpsHistory', () => {
  it('keeps an hour of samples at the interval, plus the one that starts the hour', () => {
    const history = OpsHistory.forInterval<ReturnType<typeof at>>(30_000);
    expect(history.capacity).toBe(121);
  });

  it('returns the samples oldest first', () => {
    const history = new OpsHistory<ReturnType<typeof at>>(5);
    for (const ms of [0, 1000, 2000]) history.push(at(ms));
    expect(history.samples(new Date(t0 + 3000)).map((s) => s.n)).toEqual([0, 1000, 2000]);
    expect(history.latest()?.n).toBe(2000);
  });

  it('drops the oldest samples beyond its capacity', () => {
    const history = new OpsHistory<ReturnType<typeof at>>(3);
    for (const ms of [0, 1000, 2000, 3000, 4000]) history.push(at(ms));
    expect(history.samples(new Date(t0 + 5000)).map((s) => s.n)).toEqual([2000, 3000, 4000]);
    expect(history.latest()?.n).toBe(4000);
  });

  it('leaves out samples older than an hour even when it is not full', () => {
    const history = new OpsHistory<ReturnType<typeof at>>(10);
    for (const ms of [0, 60_000, HOUR, HOUR + 60_000]) history.push(at(ms));
    expect(history.samples(new Date(t0 + HOUR + 60_000)).map((s) => s.n)).toEqual([
      60_000,
      HOUR,
      HOUR + 60_000,
    ]);
    expect(history.samples(new Date(t0 + 2 * HOUR)).map((s) => s.n)).toEqual([HOUR, HOUR + 60_000]);
    expect(history.samples(new Date(t0 + 3 * HOUR)).map((s) => s.n)).toEqual([]);
  });

  it('is empty before the first sample', () => {
    const history = new OpsHistory<ReturnType<typeof at>>(2);
    expect(history.samples()).toEqual([]);
    expect(history.latest()).toBeUndefined();
  });

  it('refuses a capacity that is not a positive whole number', () => {
    expect(() => new OpsHistory(0)).toThrow(/capacity/);
  });
});
