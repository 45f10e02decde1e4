import { ObservedEvent, observationKind } from './queue-observation.store';

const event = (overrides: Partial<ObservedEvent>): ObservedEvent => ({
  tenantId: 'ten_1',
  taskId: 'task_1',
  type: 'task.progress',
  state: 'queued',
  previousState: 'queued',
  queueNum: 7,
  costTime: null,
  observedAt: new Date('2026-11-27T05:00:00.000Z'),
  ...overrides,
});

describe('observationKind', () => {
  it('records queue positions, starts from the queue and successes', () => {
    expect(observationKind(event({}))).toBe('queued');
    expect(observationKind(event({ type: 'task.queued', previousState: null }))).toBe('queued');
    expect(observationKind(event({ type: 'task.running', state: 'running' }))).toBe('started');
    expect(
      observationKind(event({ type: 'task.succeeded', state: 'succeeded', costTime: 66.59 })),
    ).toBe('finished');
  });

  it('skips what says nothing of the queue or of run times', () => {
    // no position, a start not seen from the queue, other outcomes, tracking events
    expect(observationKind(event({ queueNum: null }))).toBeNull();
    expect(
      observationKind(event({ type: 'task.running', state: 'running', previousState: null })),
    ).toBeNull();
    expect(observationKind(event({ type: 'task.progress', state: 'running' }))).toBeNull();
    expect(observationKind(event({ type: 'task.failed', state: 'failed' }))).toBeNull();
    expect(observationKind(event({ type: 'task.expired' }))).toBeNull();
    expect(observationKind(event({ type: 'uxc.error', queueNum: null }))).toBeNull();
  });
});
