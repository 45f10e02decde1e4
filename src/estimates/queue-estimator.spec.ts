import {
  MIN_TASKS,
  NO_ESTIMATE,
  QueueObservation,
  drainStatistics,
  estimateTask,
} from './queue-estimator';

const T0 = Date.parse('2026-11-27T05:00:00.000Z');
const at = (seconds: number): Date => new Date(T0 + seconds * 1000);
const WINDOW = { windowMs: 3_600_000 };

const queuedAt = (taskId: string, queueNum: number, seconds: number): QueueObservation => ({
  taskId,
  kind: 'queued',
  queueNum,
  runSeconds: null,
  at: at(seconds),
});
const startedAt = (taskId: string, seconds: number): QueueObservation => ({
  taskId,
  kind: 'started',
  queueNum: null,
  runSeconds: null,
  at: at(seconds),
});
const finishedAt = (taskId: string, seconds: number, runSeconds: number | null = null) => ({
  taskId,
  kind: 'finished' as const,
  queueNum: null,
  runSeconds,
  at: at(seconds),
});

/** A task first seen at `from` (mid-place), then entering each place every `step` seconds. */
function drainingTask(
  taskId: string,
  from: number,
  firstSeen: number,
  step: number,
): QueueObservation[] {
  const observations = [queuedAt(taskId, from, firstSeen)];
  const entered = firstSeen + step / 2;
  for (let place = from - 1; place >= 1; place--) {
    observations.push(queuedAt(taskId, place, entered + (from - 1 - place) * step));
  }
  observations.push(startedAt(taskId, entered + (from - 1) * step));
  return observations;
}

describe('drainStatistics', () => {
  it('measures a steady queue as its rate, from every task that fell through it', () => {
    const observations = ['a', 'b', 'c', 'd'].flatMap((id, i) => drainingTask(id, 6, i * 3, 3));
    const stats = drainStatistics(observations, at(40), WINDOW);
    expect(stats.tasks).toBe(4);
    expect(stats.drainPerMinute).toBe(20);
    // from the first place entered (1.5 s), in whole seconds
    expect(stats.windowSeconds).toBe(Math.round(40 - 1.5));
  });

  it('has no rate with fewer than MIN_TASKS measured tasks', () => {
    const observations = ['a', 'b'].flatMap((id) => drainingTask(id, 5, 0, 2));
    expect(MIN_TASKS).toBe(3);
    expect(drainStatistics(observations, at(20), WINDOW)).toMatchObject({
      tasks: 2,
      drainPerMinute: null,
    });
  });

  it('does not count the first sighting of a task as the moment it reached that place', () => {
    // seen at 9 long after reaching it, then one place per 10 s: 6 places a minute, not more
    const observations = ['a', 'b', 'c'].flatMap((id) => [
      queuedAt(id, 9, 0),
      queuedAt(id, 8, 1),
      queuedAt(id, 7, 11),
      queuedAt(id, 6, 21),
    ]);
    expect(drainStatistics(observations, at(30), WINDOW).drainPerMinute).toBe(6);
  });

  it('ignores repeats of one place and positions that rose', () => {
    const observations = [
      ...['a', 'b', 'c'].flatMap((id) => [
        queuedAt(id, 5, 0),
        queuedAt(id, 4, 1),
        queuedAt(id, 4, 2),
        queuedAt(id, 3, 3),
      ]),
      // moved back in the queue: no rate from it
      queuedAt('d', 2, 0),
      queuedAt('d', 3, 1),
      queuedAt('d', 5, 2),
    ];
    const stats = drainStatistics(observations, at(5), WINDOW);
    expect(stats.tasks).toBe(3);
    expect(stats.drainPerMinute).toBe(30);
  });

  it('takes the median over tasks, so one stuck task does not move it', () => {
    const steady = ['a', 'b', 'c', 'd'].flatMap((id) => drainingTask(id, 5, 0, 2));
    const stuck = [queuedAt('s', 5, 0), queuedAt('s', 4, 1), queuedAt('s', 3, 500)];
    expect(drainStatistics([...steady, ...stuck], at(600), WINDOW).drainPerMinute).toBe(30);
  });

  it('forgets what is older than the window', () => {
    const old = ['a', 'b', 'c'].flatMap((id) => drainingTask(id, 5, 0, 2));
    expect(drainStatistics(old, at(20), { windowMs: 5000 })).toMatchObject({
      tasks: 0,
      drainPerMinute: null,
    });
  });

  it('takes run times from costTime, else from the observed start and finish', () => {
    const observations = [
      finishedAt('a', 10, 30),
      finishedAt('b', 20, 40),
      startedAt('c', 0),
      finishedAt('c', 50),
      finishedAt('d', 20, 0),
    ];
    expect(drainStatistics(observations, at(60), WINDOW)).toMatchObject({
      finishedTasks: 3,
      runSeconds: 40,
    });
  });
});

describe('estimateTask', () => {
  const stats = {
    tasks: 5,
    windowSeconds: 300,
    drainPerMinute: 6,
    finishedTasks: 4,
    runSeconds: 30,
  };

  it('starts a queued task when the queue has drained its places since it reached them', () => {
    const estimate = estimateTask(
      { state: 'queued', queueNum: 10, positionSince: at(0) },
      stats,
      at(0),
    );
    expect(estimate).toEqual({
      estimatedStartAt: at(100),
      estimatedFinishAt: at(130),
      estimateBasis: stats,
    });
  });

  it('counts from when the task reached its place, never into the past', () => {
    const since = estimateTask(
      { state: 'queued', queueNum: 1, positionSince: at(0) },
      stats,
      at(4),
    );
    expect(since.estimatedStartAt).toEqual(at(10));
    const late = estimateTask(
      { state: 'queued', queueNum: 1, positionSince: at(0) },
      stats,
      at(60),
    );
    expect(late.estimatedStartAt).toEqual(at(60));
  });

  it('is null, with its basis, when history is too thin', () => {
    const thin = { ...stats, tasks: 1, drainPerMinute: null, runSeconds: null };
    expect(
      estimateTask({ state: 'queued', queueNum: 3, positionSince: at(0) }, thin, at(0)),
    ).toEqual({ estimatedStartAt: null, estimatedFinishAt: null, estimateBasis: thin });
    expect(
      estimateTask({ state: 'queued', queueNum: 3, positionSince: at(0) }, null, at(0))
        .estimatedStartAt,
    ).toBeNull();
  });

  it('has a start but no finish when no run time is known', () => {
    const estimate = estimateTask(
      { state: 'queued', queueNum: 2, positionSince: at(0) },
      { ...stats, runSeconds: null },
      at(0),
    );
    expect(estimate.estimatedStartAt).toEqual(at(20));
    expect(estimate.estimatedFinishAt).toBeNull();
  });

  it('has no estimate for a task that is not queued or has no position', () => {
    for (const state of ['running', 'succeeded', null]) {
      expect(estimateTask({ state, queueNum: 0, positionSince: at(0) }, stats, at(0))).toEqual(
        NO_ESTIMATE,
      );
    }
    expect(
      estimateTask({ state: 'queued', queueNum: null, positionSince: at(0) }, stats, at(0))
        .estimatedStartAt,
    ).toBeNull();
  });
});
