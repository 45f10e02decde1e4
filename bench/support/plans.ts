/**
 * What the fake UXC answers for each task over time. A plan is a function of
 * the task's index, so the bench and the fake UXC (in another process) derive
 * the same plan from a small spec instead of shipping 100 000 of them.
 */

export interface PlanStep {
  /** ms after the fake UXC's start moment; null: when the bench advances to this phase by hand */
  at: number | null;
  status: number;
  progress: number;
  queueNum: number;
  queueTotal: number;
  /** unique within the plan, so a webhook names the step it reports */
  message: string;
}

export type PlanSpec =
  | {
      /** a burst: every task walks the same lifecycle at about the same time */
      kind: 'burst';
      queueSteps: number;
      runSteps: number;
      stepMs: number;
      /** each task's lifecycle is shifted by up to this many ms */
      spreadMs: number;
    }
  | {
      /** held still until the bench advances every task: queued, then running, then succeeded */
      kind: 'phased';
    }
  | {
      /** at a fixed place: the first `running` tasks run, the rest wait at spread queue positions */
      kind: 'static';
      running: number;
      maxQueueNum: number;
    }
  | {
      /** users' mix: a queue depth and a run time per task, the queue moving one place per `positionMs` */
      kind: 'mix';
      maxDepth: number;
      minRunMs: number;
      maxRunMs: number;
      positionMs: number;
      progressEveryMs: number;
      /** tasks start over this window */
      startSpreadMs: number;
    };

export const QUEUED = 100;
export const RUNNING = 200;
export const SUCCEEDED = 1;

/** A deterministic number in [0, 1) for (seed, index). */
export function unit(seed: number, index: number): number {
  let x = (index * 0x9e3779b1 + seed * 0x85ebca6b) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return (x >>> 0) / 2 ** 32;
}

function step(
  at: number | null,
  status: number,
  message: string,
  more: Partial<PlanStep> = {},
): PlanStep {
  return { at, status, progress: 0, queueNum: 0, queueTotal: 0, message, ...more };
}

export function planFor(spec: PlanSpec, index: number): PlanStep[] {
  switch (spec.kind) {
    case 'burst': {
      const shift = Math.floor(unit(1, index) * spec.spreadMs);
      const steps: PlanStep[] = [
        step(null, QUEUED, 'q0', {
          queueNum: spec.queueSteps + 1,
          queueTotal: spec.queueSteps + 1,
        }),
      ];
      let t = shift;
      for (let q = spec.queueSteps; q >= 1; q--, t += spec.stepMs)
        steps.push(step(t, QUEUED, `q${q}`, { queueNum: q, queueTotal: spec.queueSteps + 1 }));
      for (let r = 0; r < spec.runSteps; r++, t += spec.stepMs)
        steps.push(step(t, RUNNING, `r${r}`, { progress: r / spec.runSteps }));
      steps.push(step(t, SUCCEEDED, 'done', { progress: 1, message: 'done' }));
      return steps;
    }
    case 'phased':
      return [
        step(null, QUEUED, 'queued', { queueNum: 0, queueTotal: 1 }),
        step(null, RUNNING, 'running', { progress: 0.5 }),
        step(null, SUCCEEDED, 'done', { progress: 1 }),
      ];
    case 'static':
      return index < spec.running
        ? [step(null, RUNNING, 'running', { progress: 0.5 })]
        : [
            step(null, QUEUED, 'queued', {
              queueNum: 1 + Math.floor(unit(2, index) * spec.maxQueueNum),
              queueTotal: spec.maxQueueNum,
            }),
          ];
    case 'mix': {
      const depth = Math.floor(unit(3, index) * (spec.maxDepth + 1));
      const runMs = spec.minRunMs + Math.floor(unit(4, index) * (spec.maxRunMs - spec.minRunMs));
      const start = Math.floor(unit(5, index) * spec.startSpreadMs);
      const steps: PlanStep[] = [
        step(null, QUEUED, `q${depth}`, { queueNum: depth, queueTotal: spec.maxDepth }),
      ];
      let t = start;
      for (let q = depth - 1; q >= 0; q--) {
        t += spec.positionMs;
        steps.push(step(t, QUEUED, `q${q}`, { queueNum: q, queueTotal: spec.maxDepth }));
      }
      t += spec.positionMs;
      const runStart = t;
      steps.push(step(t, RUNNING, 'r0'));
      for (let p = 1; runStart + p * spec.progressEveryMs < runStart + runMs; p++)
        steps.push(
          step(runStart + p * spec.progressEveryMs, RUNNING, `r${p}`, {
            progress: Math.round(((p * spec.progressEveryMs) / runMs) * 100) / 100,
          }),
        );
      steps.push(step(runStart + runMs, SUCCEEDED, 'done', { progress: 1 }));
      return steps;
    }
  }
}

export function sidOf(prefix: string, index: number): string {
  return `BT|${prefix}-${index}`;
}

export function indexOf(sid: string): number {
  return Number(sid.slice(sid.lastIndexOf('-') + 1));
}

/** When the plan's last step comes, in ms after the start (manual steps excluded). */
export function planEndMs(steps: PlanStep[]): number {
  return Math.max(0, ...steps.map((s) => s.at ?? 0));
}

export interface FakeUxcClock {
  /** the start moment (epoch ms) the plans' `at` count from; null before `go` */
  t0: number | null;
  /** manual steps: the moment the bench advanced tasks `from`…`to` (inclusive) to step `k` */
  phases: Phase[];
}

export interface Phase {
  k: number;
  from: number;
  to: number;
  at: number;
}

export function momentOf(steps: PlanStep[], k: number, index: number, clock: FakeUxcClock): number {
  const at = steps[k].at;
  if (at !== null) return clock.t0 === null ? Infinity : clock.t0 + at;
  const phase = clock.phases.find((p) => p.k === k && p.from <= index && index <= p.to);
  return phase?.at ?? Infinity;
}
