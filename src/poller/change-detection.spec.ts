import { DEFAULT_STATUS_MAP, StatusMap } from '../uxc/status-map';
import { TaskSnapshot, detectChange } from './change-detection';

const map = StatusMap.parse(DEFAULT_STATUS_MAP);
const unseen: TaskSnapshot = {
  state: null,
  status: null,
  progress: null,
  queueNum: null,
  queueTotal: null,
  message: null,
  outputResult: null,
};
const queued3 = { status: 100, progress: 0, queueNum: 3, queueTotal: 9, message: 'queued' };
const snapshotOf = (data: typeof queued3, state = 'queued'): TaskSnapshot => ({
  ...unseen,
  ...data,
  state,
});

describe('detectChange', () => {
  it('counts the first observation as a state change', () => {
    const change = detectChange(unseen, queued3, map);
    expect(change).toMatchObject({ changed: true, type: 'task.queued' });
    expect(change.observation).toMatchObject({ state: 'queued', queueNum: 3, outputResult: null });
  });

  it('sees nothing new in the same answer again', () => {
    expect(detectChange(snapshotOf(queued3), queued3, map)).toMatchObject({
      changed: false,
      reason: 'same',
    });
  });

  it.each([
    ['queueNum', { queueNum: 1 }],
    ['queueTotal', { queueTotal: 10 }],
    ['progress', { progress: 0.5 }],
    ['message', { message: 'still waiting' }],
  ])('reports a change of %s in the same state as task.progress', (_field, patch) => {
    expect(detectChange(snapshotOf(queued3), { ...queued3, ...patch }, map)).toMatchObject({
      changed: true,
      type: 'task.progress',
    });
  });

  it('reports another status code of the same state as task.progress', () => {
    const twoQueueCodes = StatusMap.parse('100:queued,101:queued');
    expect(
      detectChange(snapshotOf(queued3), { ...queued3, status: 101 }, twoQueueCodes),
    ).toMatchObject({ changed: true, type: 'task.progress' });
  });

  it('compares outputs by value', () => {
    const running = { ...queued3, status: 200, queueNum: 0, outputResult: ['cos://a'] };
    const before = snapshotOf(running, 'running');
    expect(detectChange(before, { ...running, outputResult: ['cos://a'] }, map).changed).toBe(
      false,
    );
    expect(
      detectChange(before, { ...running, outputResult: ['cos://a', 'cos://b'] }, map),
    ).toMatchObject({ changed: true, type: 'task.progress' });
  });

  it('ignores fields outside the comparison (costTime, pod, photoParameters)', () => {
    const before = snapshotOf(queued3);
    expect(
      detectChange(before, { ...queued3, costTime: 3.2, podIp: '10.0.0.1', podPort: '8103' }, map)
        .changed,
    ).toBe(false);
  });

  it('names a state change by the new state, unknown codes included', () => {
    expect(detectChange(snapshotOf(queued3), { ...queued3, status: 200 }, map)).toMatchObject({
      changed: true,
      type: 'task.running',
    });
    expect(detectChange(snapshotOf(queued3), { ...queued3, status: 7 }, map)).toMatchObject({
      changed: true,
      type: 'task.unknown',
    });
  });

  it('never moves a terminal task, whatever UXC answers later', () => {
    const done = { ...snapshotOf(queued3, 'succeeded'), status: 1, progress: 1 };
    for (const answer of [queued3, { ...queued3, status: 200 }, { status: 2 }]) {
      expect(detectChange(done, answer, map)).toMatchObject({ changed: false, reason: 'terminal' });
    }
  });
});
