import { preferredWait } from './prefer-wait';

describe('Prefer: wait', () => {
  it('reads the seconds among other preferences', () => {
    expect(preferredWait('wait=30')).toBe(30);
    expect(preferredWait('respond-async, wait=5')).toBe(5);
    expect(preferredWait('return=minimal; wait="12"')).toBe(12);
    expect(preferredWait(['handling=lenient', 'wait=0'])).toBe(0);
  });

  it('caps it at 60 s', () => {
    expect(preferredWait('wait=3600')).toBe(60);
  });

  it('ignores what asks for no wait', () => {
    for (const header of [undefined, '', 'return=minimal', 'wait=-1', 'wait=soon', 'nowait=3'])
      expect(preferredWait(header)).toBeUndefined();
  });
});
