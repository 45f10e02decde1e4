import { encodeEventIdRange, parseEventIdRange } from './task-event-channel';

describe('task event notifications', () => {
  it('announce the span of a batch in a few bytes, whatever its size', () => {
    const ids = Array.from({ length: 200 }, (_, i) => 9_000_000_000n + BigInt(199 - i));
    const payload = encodeEventIdRange(ids) as string;
    expect(payload).toBe('9000000000-9000000199');
    expect(parseEventIdRange(payload)).toEqual({ from: 9_000_000_000n, to: 9_000_000_199n });
  });

  it('announce nothing for an empty batch', () => {
    expect(encodeEventIdRange([])).toBeUndefined();
  });

  it('ignore a payload that is not a span', () => {
    for (const payload of ['', '5', '7-5', 'a-b', '1-2-3', '1-99999999999999999999'])
      expect(parseEventIdRange(payload)).toBeUndefined();
  });
});
