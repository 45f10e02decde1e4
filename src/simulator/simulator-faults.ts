export const FAULT_KINDS = [
  'errNo',
  'http-error',
  'truncated-json',
  'hang',
  'latency',
  'reset',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * A misbehaviour to inject, for one sid or (without `sid`) for every call.
 * - `errNo`: a business error, HTTP 200 (`errNo` default 5000: 3002, 3103 and 5000 are documented)
 * - `http-error`: HTTP `status` (default 502) with an nginx-style HTML page
 * - `truncated-json`: the real answer cut in the middle, HTTP 200
 * - `hang`: no answer for `ms` (default 120 s), then the real one
 * - `latency`: `ms` (default 500) added before answering; combines with the others
 * - `reset`: the connection is destroyed without an answer
 */
export interface FaultSpec {
  kind: FaultKind;
  sid?: string;
  /** Calls it applies to; absent = until cleared. */
  count?: number;
  errNo?: number;
  errMsg?: string;
  status?: number;
  ms?: number;
  /** Sent as the `Retry-After` header (`errNo` and `http-error`). */
  retryAfter?: string;
  /** The chance (0–1) that a matching call meets it; absent = every call. Chaos runs fault a share of calls. */
  probability?: number;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

export interface FaultPlan {
  latencyMs: number;
  fault?: FaultSpec;
}

export class FaultStore {
  private faults: ActiveFault[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  add(spec: FaultSpec): void {
    this.faults.push({ ...spec, remaining: spec.count ?? Number.POSITIVE_INFINITY });
  }

  clear(sid?: string): void {
    this.faults = sid === undefined ? [] : this.faults.filter((fault) => fault.sid !== sid);
  }

  list(): FaultSpec[] {
    return this.faults.map(({ remaining, ...spec }) =>
      Number.isFinite(remaining) ? { ...spec, count: remaining } : spec,
    );
  }

  /**
   * The faults one call meets, each use counted: all matching latencies add
   * up; of the others, a sid's own fault wins over a global one.
   */
  take(sid: string | undefined): FaultPlan {
    const matching = this.faults.filter(
      (fault) =>
        fault.remaining > 0 &&
        (fault.sid === undefined || fault.sid === sid) &&
        (fault.probability === undefined || this.random() < fault.probability),
    );
    const plan: FaultPlan = { latencyMs: 0 };
    for (const fault of matching.filter((f) => f.kind === 'latency')) {
      plan.latencyMs += fault.ms ?? 500;
      fault.remaining--;
    }
    const others = matching.filter((f) => f.kind !== 'latency');
    const chosen = others.find((f) => f.sid !== undefined) ?? others[0];
    if (chosen) {
      chosen.remaining--;
      plan.fault = chosen;
    }
    this.faults = this.faults.filter((fault) => fault.remaining > 0);
    return plan;
  }
}

/** Checks a control-API body; returns the problem, or the spec. */
export function parseFaultSpec(body: unknown): FaultSpec | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (!FAULT_KINDS.includes(b.kind as FaultKind))
    return `kind must be one of ${FAULT_KINDS.join(', ')}`;
  const spec: FaultSpec = { kind: b.kind as FaultKind };
  if (b.sid !== undefined) {
    if (typeof b.sid !== 'string' || b.sid === '') return 'sid must be a non-empty string';
    spec.sid = b.sid;
  }
  for (const key of ['count', 'errNo', 'status', 'ms'] as const) {
    if (b[key] === undefined) continue;
    if (!Number.isInteger(b[key])) return `${key} must be an integer`;
    spec[key] = b[key] as number;
  }
  if (b.probability !== undefined) {
    if (typeof b.probability !== 'number' || !(b.probability >= 0 && b.probability <= 1))
      return 'probability must be a number from 0 to 1';
    spec.probability = b.probability;
  }
  if (spec.errNo === 0) return 'errNo must not be 0: 0 is success';
  if (spec.count !== undefined && spec.count < 1) return 'count must be at least 1';
  if (spec.status !== undefined && (spec.status < 100 || spec.status > 599))
    return 'status must be an HTTP status';
  if (spec.ms !== undefined && spec.ms < 0) return 'ms must not be negative';
  if (b.errMsg !== undefined) {
    if (typeof b.errMsg !== 'string') return 'errMsg must be a string';
    spec.errMsg = b.errMsg;
  }
  if (b.retryAfter !== undefined) {
    if (typeof b.retryAfter !== 'string' && typeof b.retryAfter !== 'number')
      return 'retryAfter must be a string or number';
    spec.retryAfter = String(b.retryAfter);
  }
  return spec;
}
