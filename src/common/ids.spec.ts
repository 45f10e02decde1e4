import { newId } from './ids';

describe('newId', () => {
  it('never repeats, across many refills of its random pool', () => {
    const ids = Array.from({ length: 20_000 }, () => newId('msg'));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^msg_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('sorts by creation time', async () => {
    const first = newId('task');
    await new Promise((done) => setTimeout(done, 5));
    const second = newId('task');
    expect(first < second).toBe(true);
  });
});
