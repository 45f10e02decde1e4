import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UxcEnvelope } from '../uxc/uxc-response';
import { BodyTooLargeError, parseCookies, parseJson, readBody, send, sendJson } from './http-io';
import { SimulatedTask, TaskView } from './simulated-task';
import {
  SIMULATOR_AUTH_ERRNO,
  SIMULATOR_BAD_REQUEST_ERRNO,
  SIMULATOR_DEFAULT_AK,
  SIMULATOR_DEFAULT_SK,
  SIMULATOR_TASK_GET_PATH,
} from './simulator.constants';
import { FaultSpec, FaultStore, parseFaultSpec } from './simulator-faults';
import { DEFAULT_LIFECYCLE, LifecycleOptions, lifecycleSteps } from './task-lifecycle';
import { TaskScript, parseTaskScript } from './task-script';

export interface SimulatorCredential {
  ak: string;
  sk: string;
}

export interface SimulatorOptions {
  /** Accepted besides the default credential (`SIMULATOR_DEFAULT_AK`/`SK`). */
  credentials?: SimulatorCredential[];
  /** Timings of the lifecycle every unseen sid gets; tests shorten them. */
  lifecycle?: Partial<LifecycleOptions>;
  /** Unseen sids matching this fail instead of succeeding, to show the failure path without scripting. Default `/fail/i`; null disables. */
  failSidPattern?: RegExp | null;
  /** How many recent calls `calls()` keeps. */
  callLogSize?: number;
  /**
   * A JSON file where the start of each unscripted task is kept, so a
   * restarted simulator carries its lifecycles on instead of queuing them again.
   */
  stateFile?: string;
}

/** One call to the task endpoint, as the simulator saw it. */
export interface SimulatorCall {
  /** Unix milliseconds at arrival. */
  at: number;
  ak: string | undefined;
  sid: string | undefined;
  /** `errNo:0`, `errNo:3002`, `fault:hang`, … */
  answer: string;
}

export interface SimulatorStats {
  total: number;
  bySid: Record<string, number>;
  byAk: Record<string, number>;
  unauthorized: number;
  faulted: number;
  /** calls whose client hung up while their answer was delayed: it was never sent */
  abandoned: number;
}

const BAD_GATEWAY_HTML = (status: number): string =>
  `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

type Answer = UxcEnvelope<unknown>;

/**
 * A UXC double that answers `POST /api/dispatch/task/get` the way the API
 * document describes, plus a control API under `/simulator/`. Framework-free:
 * mount `handler` on any `node:http` server (see `startSimulatorServer`).
 */
export class Simulator {
  private readonly credentials = new Map<string, string>();
  private readonly tasks = new Map<string, SimulatedTask>();
  private readonly faults = new FaultStore();
  private readonly callLog: SimulatorCall[] = [];
  private readonly pending = new Set<() => void>();
  private counts = emptyCounts();
  private readonly lifecycle: LifecycleOptions;
  private readonly failSidPattern: RegExp | null;
  private readonly kept: KeptStarts | undefined;

  constructor(private readonly options: SimulatorOptions = {}) {
    this.lifecycle = { ...DEFAULT_LIFECYCLE, ...options.lifecycle };
    this.failSidPattern = options.failSidPattern === undefined ? /fail/i : options.failSidPattern;
    this.kept = options.stateFile === undefined ? undefined : new KeptStarts(options.stateFile);
    this.resetCredentials();
  }

  /** The `node:http` request listener. */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((error: unknown) => {
      if (error instanceof BodyTooLargeError) sendJson(res, 413, { error: error.message });
      else sendJson(res, 500, { error: 'simulator failure' });
    });
  };

  addCredential(credential: SimulatorCredential): void {
    this.credentials.set(credential.ak, credential.sk);
  }

  /** Replaces whatever the sid had; answers as `GET /simulator/tasks/:sid` would. */
  scriptTask(script: TaskScript): TaskView {
    const steps =
      script.steps ?? lifecycleSteps(script.sid, { ...this.lifecycle, ...script.lifecycle });
    const task = new SimulatedTask(
      script.sid,
      script.mode ?? 'timed',
      steps,
      script.start === 'now',
    );
    this.tasks.set(script.sid, task);
    return task.view();
  }

  task(sid: string): TaskView | undefined {
    return this.tasks.get(sid)?.view();
  }

  advance(sid: string): TaskView | undefined {
    const task = this.tasks.get(sid);
    task?.advance();
    return task?.view();
  }

  forgetTask(sid: string): boolean {
    return this.tasks.delete(sid);
  }

  addFault(spec: FaultSpec): void {
    this.faults.add(spec);
  }

  clearFaults(sid?: string): void {
    this.faults.clear(sid);
  }

  listFaults(): FaultSpec[] {
    return this.faults.list();
  }

  stats(): SimulatorStats {
    // fromEntries, not property writes: a sid may well be "__proto__"
    return {
      ...this.counts,
      bySid: Object.fromEntries(this.counts.bySid),
      byAk: Object.fromEntries(this.counts.byAk),
    };
  }

  calls(): readonly SimulatorCall[] {
    return this.callLog;
  }

  /** Back to a fresh simulator: tasks, faults, counts and added credentials forgotten. */
  reset(): void {
    this.tasks.clear();
    this.kept?.clear();
    this.faults.clear();
    this.callLog.length = 0;
    this.counts = emptyCounts();
    this.resetCredentials();
  }

  /** Ends hangs and delays in progress, so a server can close at once. */
  close(): void {
    for (const cancel of [...this.pending]) cancel();
  }

  private resetCredentials(): void {
    this.credentials.clear();
    this.credentials.set(SIMULATOR_DEFAULT_AK, SIMULATOR_DEFAULT_SK);
    for (const credential of this.options.credentials ?? []) this.addCredential(credential);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [rawPath, query = ''] = (req.url ?? '/').split('?', 2);
    const method = req.method ?? 'GET';
    if (rawPath === SIMULATOR_TASK_GET_PATH) {
      if (method !== 'POST') return sendJson(res, 405, { error: 'use POST' });
      return this.taskGet(req, res);
    }
    if (rawPath === '/' && method === 'GET') return sendJson(res, 200, this.describe());
    if (rawPath.startsWith('/simulator/'))
      return this.control(req, res, method, rawPath, new URLSearchParams(query));
    sendJson(res, 404, { error: `no route ${method} ${rawPath}` });
  }

  private async taskGet(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = parseJson(await readBody(req));
    const sid =
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { sid?: unknown }).sid === 'string'
        ? (body as { sid: string }).sid
        : undefined;
    const cookies = parseCookies(req.headers.cookie);
    const ak = cookies.get('ak');
    const sk = cookies.get('sk');

    const plan = this.faults.take(sid);
    const authorized = ak !== undefined && sk !== undefined && this.credentials.get(ak) === sk;
    const answer = this.answer(sid, authorized);
    const label = plan.fault ? `fault:${plan.fault.kind}` : `errNo:${answer.errNo}`;
    this.record({ at: Date.now(), ak, sid, answer: label }, authorized, plan.fault !== undefined);

    if (plan.latencyMs > 0 && !(await this.delay(plan.latencyMs, res))) return;
    const fault = plan.fault;
    const retryAfter: Record<string, string> = fault?.retryAfter
      ? { 'retry-after': fault.retryAfter }
      : {};
    switch (fault?.kind) {
      case 'errNo':
        return sendJson(
          res,
          200,
          { errNo: fault.errNo ?? 5000, errMsg: fault.errMsg ?? 'simulated error', data: {} },
          retryAfter,
        );
      case 'http-error':
        return send(
          res,
          fault.status ?? 502,
          BAD_GATEWAY_HTML(fault.status ?? 502),
          'text/html',
          retryAfter,
        );
      case 'truncated-json': {
        const text = JSON.stringify(answer);
        return send(
          res,
          200,
          text.slice(0, Math.floor(text.length / 2)),
          'application/json; charset=utf-8',
        );
      }
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        if (!(await this.delay(fault.ms ?? 120_000, res))) return;
        break;
    }
    sendJson(res, 200, answer);
  }

  /** The business answer, before any fault: HTTP 200 whatever it says. */
  private answer(sid: string | undefined, authorized: boolean): Answer {
    if (!authorized) {
      return { errNo: SIMULATOR_AUTH_ERRNO, errMsg: 'invalid ak or sk', data: {} };
    }
    if (sid === undefined || sid === '') {
      return { errNo: SIMULATOR_BAD_REQUEST_ERRNO, errMsg: 'sid is required', data: {} };
    }
    let task = this.tasks.get(sid);
    if (!task) {
      const outcome = this.failSidPattern?.test(sid) ? 'failed' : this.lifecycle.outcome;
      task = new SimulatedTask(
        sid,
        'timed',
        lifecycleSteps(sid, { ...this.lifecycle, outcome }),
        false,
        this.kept?.get(sid),
      );
      this.tasks.set(sid, task);
      const answer = task.poll();
      this.kept?.set(sid, task.started as number);
      return answer;
    }
    return task.poll();
  }

  private record(call: SimulatorCall, authorized: boolean, faulted: boolean): void {
    const size = this.options.callLogSize ?? 10_000;
    this.callLog.push(call);
    if (this.callLog.length > size) this.callLog.splice(0, this.callLog.length - size);
    this.counts.total++;
    if (call.sid !== undefined) increment(this.counts.bySid, call.sid);
    if (call.ak !== undefined) increment(this.counts.byAk, call.ak);
    if (!authorized) this.counts.unauthorized++;
    if (faulted) this.counts.faulted++;
  }

  /** Resolves true after `ms`, or false as soon as the client left or the simulator closed. */
  private delay(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (completed: boolean): void => {
        clearTimeout(timer);
        res.off('close', onClose);
        this.pending.delete(cancel);
        resolve(completed);
      };
      const onClose = (): void => {
        this.counts.abandoned++;
        finish(false);
      };
      const cancel = (): void => {
        finish(false);
        res.destroy();
      };
      const timer = setTimeout(() => finish(true), ms);
      res.on('close', onClose);
      this.pending.add(cancel);
    });
  }

  private async control(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    const route = `${method} ${path}`;
    const taskRoute = /^\/simulator\/tasks\/([^/]+)(\/advance)?$/.exec(path);
    if (taskRoute) {
      let sid: string;
      try {
        sid = decodeURIComponent(taskRoute[1]);
      } catch {
        return sendJson(res, 400, { error: 'the sid in the path is not valid percent-encoding' });
      }
      if (taskRoute[2] && method === 'POST') return this.viewOr404(res, sid, this.advance(sid));
      if (!taskRoute[2] && method === 'GET') return this.viewOr404(res, sid, this.task(sid));
      if (!taskRoute[2] && method === 'DELETE') {
        return this.forgetTask(sid)
          ? sendJson(res, 200, { sid, deleted: true })
          : this.viewOr404(res, sid, undefined);
      }
    }
    switch (route) {
      case 'GET /simulator/stats':
        return sendJson(res, 200, this.stats());
      case 'GET /simulator/calls': {
        const sid = query.get('sid');
        const calls = sid === null ? this.callLog : this.callLog.filter((call) => call.sid === sid);
        return sendJson(res, 200, { items: calls });
      }
      case 'POST /simulator/reset':
        this.reset();
        return sendJson(res, 200, { reset: true });
      case 'GET /simulator/faults':
        return sendJson(res, 200, { items: this.listFaults() });
      case 'DELETE /simulator/faults':
        this.clearFaults(query.get('sid') ?? undefined);
        return sendJson(res, 200, { items: this.listFaults() });
    }
    if (
      method !== 'POST' ||
      !['/simulator/credentials', '/simulator/tasks', '/simulator/faults'].includes(path)
    ) {
      return sendJson(res, 404, { error: `no route ${route}` });
    }
    const body = parseJson(await readBody(req));
    if (path === '/simulator/credentials') {
      const b = (body ?? {}) as Record<string, unknown>;
      if (typeof b.ak !== 'string' || b.ak === '' || typeof b.sk !== 'string' || b.sk === '') {
        return sendJson(res, 400, { error: 'ak and sk must be non-empty strings' });
      }
      this.addCredential({ ak: b.ak, sk: b.sk });
      return sendJson(res, 201, { ak: b.ak });
    }
    if (path === '/simulator/tasks') {
      const script = parseTaskScript(body);
      if (typeof script === 'string') return sendJson(res, 400, { error: script });
      return sendJson(res, 201, this.scriptTask(script));
    }
    const fault = parseFaultSpec(body);
    if (typeof fault === 'string') return sendJson(res, 400, { error: fault });
    this.addFault(fault);
    sendJson(res, 201, { items: this.listFaults() });
  }

  private viewOr404(res: ServerResponse, sid: string, view: TaskView | undefined): void {
    if (view) sendJson(res, 200, view);
    else sendJson(res, 404, { error: `the simulator has not seen sid ${JSON.stringify(sid)}` });
  }

  private describe(): Record<string, unknown> {
    return {
      name: 'UXC simulator — not a real UXC',
      taskGet: `POST ${SIMULATOR_TASK_GET_PATH} with Cookie: ak=…; sk=… and {"sid": "…"}`,
      defaultCredential: { ak: SIMULATOR_DEFAULT_AK, sk: SIMULATOR_DEFAULT_SK },
      control: [
        'GET /simulator/stats',
        'GET /simulator/calls?sid=',
        'POST /simulator/credentials {ak, sk}',
        'POST /simulator/tasks {sid, mode?, start?, steps? | lifecycle?}',
        'GET|DELETE /simulator/tasks/:sid',
        'POST /simulator/tasks/:sid/advance',
        'POST /simulator/faults {kind, sid?, count?, probability?, errNo?, errMsg?, status?, ms?, retryAfter?}',
        'GET|DELETE /simulator/faults?sid=',
        'POST /simulator/reset',
      ],
    };
  }
}

interface Counts {
  total: number;
  bySid: Map<string, number>;
  byAk: Map<string, number>;
  unauthorized: number;
  faulted: number;
  abandoned: number;
}

function emptyCounts(): Counts {
  return { total: 0, bySid: new Map(), byAk: new Map(), unauthorized: 0, faulted: 0, abandoned: 0 };
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/**
 * When each unscripted task started, kept in a file. The lifecycle itself is a
 * function of the sid, so its start is all a restart needs.
 */
class KeptStarts {
  private readonly starts = new Map<string, number>();

  constructor(private readonly file: string) {
    if (!existsSync(file)) return;
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { starts?: Record<string, unknown> };
      for (const [sid, at] of Object.entries(saved.starts ?? {})) {
        if (typeof at === 'number' && Number.isFinite(at)) this.starts.set(sid, at);
      }
    } catch {
      // an unreadable file starts the simulator afresh, as it always did
    }
  }

  get(sid: string): number | undefined {
    return this.starts.get(sid);
  }

  set(sid: string, startedAt: number): void {
    if (this.starts.get(sid) === startedAt) return;
    this.starts.set(sid, startedAt);
    this.save();
  }

  clear(): void {
    this.starts.clear();
    this.save();
  }

  private save(): void {
    const temporary = `${this.file}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify({ starts: Object.fromEntries(this.starts) }));
    renameSync(temporary, this.file);
  }
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  return new Simulator(options);
}
