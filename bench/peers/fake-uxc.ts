/**
 * A plan-driven fake UXC: answers `POST /api/dispatch/task/get` like the
 * fixtures in the UXC document, each task's answer following its plan
 * (support/plans.ts) on this process's clock, and records every call: the
 * moment a task changes is the moment its plan says, and the bench reads it
 * from here.
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import photoParameters from '../../src/simulator/photo-parameters.json';
import { nowMs, servePeer } from '../support/peer';
import {
  FakeUxcClock,
  indexOf,
  momentOf,
  Phase,
  PlanSpec,
  PlanStep,
  planFor,
  RUNNING,
  SUCCEEDED,
} from '../support/plans';

export type { FakeUxcClock };

export interface FakeUxcStart {
  spec: PlanSpec;
  ak: string;
  sk: string;
}

export interface FakeUxcStats {
  calls: number;
  /** calls of tasks whose plan was at a running step when called */
  runningCalls: number;
  /** for tasks called twice in a row while running: the gaps between the calls, ms */
  runningGaps: number[];
  /** tasks called at least once */
  tasksSeen: number;
}

let spec: PlanSpec;
let cookie = '';
const plans = new Map<number, PlanStep[]>();
let t0: number | null = null;
const phases: Phase[] = [];
let calls = 0;
let runningCalls = 0;
let runningGaps: number[] = [];
const lastRunningCall = new Map<number, number>();
const seen = new Set<number>();

function plan(index: number): PlanStep[] {
  let steps = plans.get(index);
  if (steps === undefined) {
    steps = planFor(spec, index);
    plans.set(index, steps);
  }
  return steps;
}

function current(steps: PlanStep[], index: number, now: number): PlanStep {
  const clock = { t0, phases };
  let k = 0;
  for (let i = 1; i < steps.length; i++) if (momentOf(steps, i, index, clock) <= now) k = i;
  return steps[k];
}

function answer(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/api/dispatch/task/get') {
      res.writeHead(404).end();
      return;
    }
    const now = nowMs();
    calls++;
    if (req.headers.cookie !== cookie) {
      answer(res, { errNo: 3002, errMsg: 'bad ak/sk', data: {} });
      return;
    }
    let sid: string;
    try {
      sid = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sid: unknown }).sid);
    } catch {
      answer(res, { errNo: 5000, errMsg: 'bad body', data: {} });
      return;
    }
    const index = indexOf(sid);
    if (!Number.isInteger(index) || index < 0) {
      answer(res, { errNo: 1000, errMsg: 'no such task', data: {} });
      return;
    }
    seen.add(index);
    const s = current(plan(index), index, now);
    if (s.status === RUNNING) {
      runningCalls++;
      const last = lastRunningCall.get(index);
      if (last !== undefined) runningGaps.push(now - last);
      lastRunningCall.set(index, now);
    } else lastRunningCall.delete(index);
    const done = s.status === SUCCEEDED;
    answer(res, {
      errNo: 0,
      errMsg: 'succ',
      data: {
        sid,
        status: s.status,
        podIp: '10.0.0.1',
        podPort: '8103',
        progress: s.progress,
        costTime: done ? 66.59 : 0,
        message: s.message,
        queueNum: s.queueNum,
        queueTotal: s.queueTotal,
        outputResult: done ? [`cos://bench/${index}.webp`] : [],
        ...(done ? { photoParameters } : {}),
      },
    });
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, handle);

servePeer({
  start: async (args: FakeUxcStart) => {
    spec = args.spec;
    cookie = `ak=${args.ak}; sk=${args.sk}`;
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  },
  /** the plans' clock starts `delayMs` from now */
  go: (args: { delayMs: number }): number => {
    t0 = nowMs() + args.delayMs;
    return t0;
  },
  /** tasks `from`…`to` (default: all) move to manual step `k` now */
  phase: (args: { k: number; from?: number; to?: number }): number => {
    const at = nowMs();
    phases.push({ k: args.k, from: args.from ?? 0, to: args.to ?? Number.MAX_SAFE_INTEGER, at });
    return at;
  },
  clock: (): FakeUxcClock => ({ t0, phases }),
  stats: (args: { resetGaps?: boolean } = {}): FakeUxcStats => {
    const stats = { calls, runningCalls, runningGaps, tasksSeen: seen.size };
    if (args.resetGaps) runningGaps = [];
    return stats;
  },
});
