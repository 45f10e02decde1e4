import { parseEventIdRange } from './task-event-channel';

describe('task event notifications', () => {
  it('read the span of a batch from a few bytes, whatever its size', () => {
    expect(parseEventIdRange('9000000000-9000000199')).toEqual({
      from: 9_000_000_000n,
      to: 9_000_000_199n,
    });
  });

  it('ignore a payload that is not a span', () => {
    for (const payload of ['', '5', '7-5', 'a-b', '1-2-3', '1-99999999999999999999'])
      expect(parseEventIdRange(payload)).toBeUndefined();
  });
});
