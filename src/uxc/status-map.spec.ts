import { DEFAULT_STATUS_MAP, StatusMap } from './status-map';
import { isTerminal } from './task-state';

describe('StatusMap', () => {
  it('maps the documented codes by default', () => {
    const map = StatusMap.parse(DEFAULT_STATUS_MAP);
    expect([1, 2, 100, 200, 999, 1000].map((code) => map.stateOf(code))).toEqual([
      'succeeded',
      'failed',
      'queued',
      'running',
      'failed',
      'canceled',
    ]);
  });

  it('maps a code outside the map, or no code, to unknown', () => {
    const map = StatusMap.parse(DEFAULT_STATUS_MAP);
    expect(map.stateOf(3)).toBe('unknown');
    expect(map.stateOf(-1)).toBe('unknown');
    expect(map.stateOf(undefined)).toBe('unknown');
    expect(map.stateOf(null)).toBe('unknown');
    expect(isTerminal(map.stateOf(3))).toBe(false);
  });

  it('takes an operator override, spaces and trailing commas tolerated', () => {
    const map = StatusMap.parse(' 7 : running, 8:succeeded ,');
    expect(map.stateOf(7)).toBe('running');
    expect(map.stateOf(8)).toBe('succeeded');
    expect(map.stateOf(1)).toBe('unknown');
    expect(map.toJSON()).toEqual({ 7: 'running', 8: 'succeeded' });
  });

  it.each([
    ['1:done', /not a state/],
    ['one:succeeded', /not of the form/],
    ['1:succeeded,1:failed', /mapped twice/],
    ['', /empty/],
    [' , ', /empty/],
  ])('rejects %j', (text, message) => {
    expect(() => StatusMap.parse(text)).toThrow(message);
  });

  it('knows which states end a task', () => {
    expect(['succeeded', 'failed', 'canceled'].every(isTerminal)).toBe(true);
    expect(['queued', 'running', 'unknown', undefined].some(isTerminal)).toBe(false);
  });
});
