import { AdaptiveLimit, hostSignal } from './adaptive-limit';

describe('hostSignal', () => {
  it('reads fast 2xx, slow 2xx, overload and neutral answers', () => {
    expect(hostSignal({ statusCode: 204, durationMs: 20, refused: false })).toBe('fast');
    expect(hostSignal({ statusCode: 200, durationMs: 5000, refused: false })).toBe('slow');
    expect(hostSignal({ statusCode: 503, durationMs: 20, refused: false })).toBe('overloaded');
    expect(hostSignal({ statusCode: 429, durationMs: 20, refused: false })).toBe('overloaded');
    expect(hostSignal({ statusCode: null, durationMs: 15000, refused: false })).toBe('overloaded');
    expect(hostSignal({ statusCode: 400, durationMs: 20, refused: false })).toBe('neutral');
    expect(hostSignal({ statusCode: null, durationMs: 0, refused: true })).toBe('neutral');
  });
});

describe('AdaptiveLimit', () => {
  it('doubles each round of fast answers while every slot is used, up to the max', () => {
    const limit = new AdaptiveLimit(8, 64);
    for (let i = 0; i < 8; i++) limit.record(limit.start(), 'fast', limit.limit - 1);
    expect(limit.limit).toBe(16);
    for (let i = 0; i < 1000; i++) limit.record(limit.start(), 'fast', limit.limit - 1);
    expect(limit.limit).toBe(64);
  });

  it('after the first overload, grows by about one per round', () => {
    const limit = new AdaptiveLimit(32, 64);
    limit.record(limit.start(), 'overloaded', 31);
    expect(limit.limit).toBe(16);
    for (let i = 0; i < 16; i++) limit.record(limit.start(), 'fast', limit.limit - 1);
    expect(limit.limit).toBe(17);
  });

  it('does not grow while the host has spare slots', () => {
    const limit = new AdaptiveLimit(8, 64);
    for (let i = 0; i < 100; i++) limit.record(limit.start(), 'fast', 2);
    expect(limit.limit).toBe(8);
  });

  it('halves on overload once per round, not once per failed request of that round', () => {
    const limit = new AdaptiveLimit(32, 64);
    const tickets = Array.from({ length: 32 }, () => limit.start());
    for (const ticket of tickets) limit.record(ticket, 'overloaded', 31);
    expect(limit.limit).toBe(16);
    limit.record(limit.start(), 'overloaded', 15);
    expect(limit.limit).toBe(8);
  });

  it('never falls below one', () => {
    const limit = new AdaptiveLimit(2, 64);
    for (let i = 0; i < 10; i++) limit.record(limit.start(), 'overloaded', 0);
    expect(limit.limit).toBe(1);
  });
});
