import { createHash } from 'node:crypto';
import type { UxcTaskData } from '../uxc/uxc-response';
import photoParameters from './photo-parameters.json';
import { SIMULATOR_STATUS } from './simulator.constants';

/** One stage of a task as the simulator answers it. */
export interface SimulatorStep {
  /** How long the step lasts in timed mode; the last step lasts for ever. */
  durationMs?: number;
  /** The answer's `data` is `{sid, ...data}`: fields left out are absent. */
  data?: UxcTaskData;
  /** Answer this business error instead during the step. */
  errNo?: number;
  errMsg?: string;
}

export type SimulatorOutcome = 'succeeded' | 'failed' | 'canceled';

/** The default lifecycle's shape: queued, running, then an outcome. */
export interface LifecycleOptions {
  /** Time in the queue; `queueNum` counts down from `queueLength` to 1 over it. */
  queuedMs: number;
  queueLength: number;
  /** Kept constant while queued, as UXC does. */
  queueTotal: number;
  /** Time running; `progress` rises from 0 in `progressSteps` steps. */
  runningMs: number;
  progressSteps: number;
  outcome: SimulatorOutcome;
  /** `message` of a failed or canceled task. */
  failureMessage: string;
  outputCount: number;
}

/** About 30 s from first poll to the outcome, so a newcomer can watch a task finish. */
export const DEFAULT_LIFECYCLE: LifecycleOptions = {
  queuedMs: 8000,
  queueLength: 4,
  queueTotal: 12,
  runningMs: 22000,
  progressSteps: 11,
  outcome: 'succeeded',
  failureMessage: 'ComfyUI execution failed: CUDA out of memory',
  outputCount: 2,
};

/** Steps of the lifecycle; deterministic for a sid, so repeated runs answer alike. */
export function lifecycleSteps(sid: string, options: LifecycleOptions): SimulatorStep[] {
  const seed = createHash('sha256').update(sid).digest();
  const pod = {
    podIp: `10.106.${seed[0]}.${seed[1] % 254 || 1}`,
    podPort: String(8100 + (seed[2] % 16)),
  };
  const common = { costTime: 0, outputResult: [] as string[], photoParameters };
  const steps: SimulatorStep[] = [];

  const queueLength = options.queuedMs > 0 ? Math.max(1, options.queueLength) : 0;
  for (let position = queueLength; position >= 1; position--) {
    steps.push({
      durationMs: options.queuedMs / queueLength,
      data: {
        status: SIMULATOR_STATUS.queued,
        podIp: '',
        podPort: '',
        progress: 0,
        message: 'queued',
        queueNum: position,
        queueTotal: Math.max(options.queueTotal, queueLength),
        ...common,
      },
    });
  }

  const progressSteps = options.runningMs > 0 ? Math.max(1, options.progressSteps) : 0;
  for (let i = 0; i < progressSteps; i++) {
    steps.push({
      durationMs: options.runningMs / progressSteps,
      data: {
        status: SIMULATOR_STATUS.running,
        ...pod,
        // floats in 0..1, though the document calls progress an integer: its finished example is 1
        progress: Math.round((i / progressSteps) * 100) / 100,
        message: 'running',
        queueNum: 0,
        queueTotal: 0,
        ...common,
      },
    });
  }

  // a plausible spread around the running time, two decimals as in the fixture's 66.59
  const costTime = Math.round(options.runningMs / 10 + (seed[3] % 100)) / 100;
  const final: UxcTaskData =
    options.outcome === 'succeeded'
      ? {
          status: SIMULATOR_STATUS.succeeded,
          ...pod,
          progress: 1,
          message: 'ok',
          queueNum: 0,
          queueTotal: 0,
          costTime,
          outputResult: outputUrls(seed, options.outputCount),
          photoParameters,
        }
      : {
          status: SIMULATOR_STATUS[options.outcome],
          ...pod,
          progress: options.outcome === 'failed' ? 0.5 : 0,
          message: options.failureMessage,
          queueNum: 0,
          queueTotal: 0,
          costTime: options.outcome === 'failed' ? costTime / 2 : 0,
          outputResult: [],
          photoParameters,
        };
  steps.push({ data: final });
  return steps;
}

function outputUrls(seed: Buffer, count: number): string[] {
  return Array.from({ length: count }, (_, index) => {
    const hex = createHash('sha256').update(seed).update(String(index)).digest('hex');
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    return `cos://zyb-uxc-aigc-1253445850/batch_tasks/comfyui/output/${uuid}.WEBP`;
  });
}
