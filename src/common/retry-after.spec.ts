import { parseRetryAfter } from './retry-after';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-27T05:00:00Z');
  const webhookClamp = { minMs: 1000, maxMs: 60 * 60 * 1000 };
  it.each([
    [undefined, null],
    ['', null],
    ['abc', null],
    ['-5', null],
    ['1.5', null],
    ['0', 1000],
    ['1', 1000],
    ['30', 30_000],
    ['3600', 3_600_000],
    ['3601', 3_600_000],
    [' 12 ', 12_000],
    ['Fri, 27 Nov 2026 05:02:00 GMT', 120_000],
    ['Fri, 27 Nov 2026 04:00:00 GMT', 1000],
    ['Sat, 28 Nov 2026 05:00:00 GMT', 3_600_000],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, webhookClamp, now)).toBe(expected);
  });

  it('clamps to the bounds it is given', () => {
    const uxcClamp = { minMs: 0, maxMs: 24 * 3600 * 1000 };
    expect(parseRetryAfter('0', uxcClamp, now)).toBe(0);
    expect(parseRetryAfter('Fri, 27 Nov 2026 04:00:00 GMT', uxcClamp, now)).toBe(0);
    expect(parseRetryAfter('86401', uxcClamp, now)).toBe(86_400_000);
    expect(parseRetryAfter(['5'], uxcClamp, now)).toBeNull();
  });
});
