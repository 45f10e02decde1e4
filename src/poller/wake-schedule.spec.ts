import { ManualClock } from '../uxc/rate-limiter-clock';
import { WakeSchedule } from './wake-schedule';

const EPOCH = 1_764_000_000_000;

describe('WakeSchedule', () => {
  it('wakes once per due time, earliest first, whatever order they were added in', async () => {
    const clock = new ManualClock(EPOCH);
    const wakes: number[] = [];
    const schedule = new WakeSchedule(() => wakes.push(clock.now() - EPOCH), 10, clock);
    schedule.add(EPOCH + 120);
    schedule.add(EPOCH + 40);
    schedule.add(EPOCH + 80);
    schedule.add(EPOCH + 81); // rounded up to the +90 bucket
    expect(schedule.pending).toBe(4);
    await clock.advance(39);
    expect(wakes).toEqual([]);
    await clock.advance(200);
    // one millisecond after each bucket, so the task is due when it is claimed
    expect(wakes).toEqual([41, 81, 91, 121]);
    expect(schedule.pending).toBe(0);
    schedule.stop();
  });

  it('shares one wake-up between times in one bucket', async () => {
    const clock = new ManualClock(EPOCH);
    let wakes = 0;
    const schedule = new WakeSchedule(() => wakes++, 10, clock);
    schedule.add(EPOCH + 51);
    schedule.add(EPOCH + 55);
    schedule.add(EPOCH + 60);
    expect(schedule.pending).toBe(1);
    await clock.advance(100);
    expect(wakes).toBe(1);
  });

  it('wakes at once for a time already past, and never after stop', async () => {
    const clock = new ManualClock(EPOCH);
    let wakes = 0;
    const schedule = new WakeSchedule(() => wakes++, 10, clock);
    schedule.add(EPOCH - 1000);
    await clock.advance(1);
    expect(wakes).toBe(1);
    schedule.add(EPOCH + 30);
    schedule.stop();
    schedule.add(EPOCH + 10);
    expect(schedule.pending).toBe(0);
    await clock.advance(1000);
    expect(wakes).toBe(1);
  });
});
