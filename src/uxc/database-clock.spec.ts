import { DatabaseClock } from './database-clock';

describe('DatabaseClock', () => {
  it("maps the database's times by the round trip that says most about them", () => {
    const clock = new DatabaseClock();
    // the database's clock runs 10,000 ms ahead of this process's
    clock.observe(100, 10_101, 102); // a quick answer: read 1 ms after sending
    clock.observe(200, 10_201, 350); // a slow one: answered 150 ms after the read
    // the slow answer does not move the mapping: 10,500 there is 500 here, within a millisecond
    expect(Math.abs(clock.toLocal(10_500) - 500)).toBeLessThanOrEqual(1);
  });

  it('lets the oldest samples go, so a drifting clock is followed', () => {
    const clock = new DatabaseClock();
    clock.observe(0, 5_000, 0); // exact, but old
    for (let i = 1; i <= 16; i++) clock.observe(i * 1000, i * 1000 + 6_001, i * 1000 + 2);
    expect(Math.abs(clock.toLocal(20_000 + 6_000) - 20_000)).toBeLessThanOrEqual(1);
  });

  it('refuses to map before it has seen the database', () => {
    expect(() => new DatabaseClock().toLocal(1)).toThrow('before any observe');
  });
});
