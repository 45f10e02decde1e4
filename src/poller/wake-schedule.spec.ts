import { WakeSchedule } from './wake-schedule';

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

describe('WakeSchedule', () => {
  it('wakes once per due time, earliest first, whatever order they were added in', async () => {
    const wakes: number[] = [];
    const started = Date.now();
    const schedule = new WakeSchedule(() => wakes.push(Date.now() - started));
    schedule.add(started + 120);
    schedule.add(started + 40);
    schedule.add(started + 80);
    schedule.add(started + 81); // same 10 ms bucket as +80 (rounded up to it or the next)
    // timers may fire late on a loaded machine, never early
    for (let waited = 0; schedule.pending > 0 && waited < 3000; waited += 20) await sleep(20);
    expect(schedule.pending).toBe(0);
    expect(wakes.length).toBeGreaterThanOrEqual(3);
    expect(wakes.length).toBeLessThanOrEqual(4);
    expect(wakes[0]).toBeGreaterThanOrEqual(40);
    expect(wakes[1]).toBeGreaterThanOrEqual(80);
    expect(wakes[wakes.length - 1]).toBeGreaterThanOrEqual(120);
    expect([...wakes].sort((a, b) => a - b)).toEqual(wakes);
    schedule.stop();
  });

  it('wakes at once for a time already past, and never after stop', async () => {
    let wakes = 0;
    const schedule = new WakeSchedule(() => wakes++);
    schedule.add(Date.now() - 1000);
    await sleep(20);
    expect(wakes).toBe(1);
    schedule.add(Date.now() + 30);
    schedule.stop();
    schedule.add(Date.now() + 10);
    await sleep(60);
    expect(wakes).toBe(1);
  });
});
