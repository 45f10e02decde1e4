import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A stop never waits longer than this for work in flight, however long its timeout. */
export const STOP_DEADLINE_MAX_MS = 10_000;

/**
 * What the poller and the dispatcher share as leasing work loops: the id
 * that names this process in `locked_by`, how long a lease lasts, how often
 * it is renewed, and how long a stop waits for work in flight. Each loop
 * keeps its own claiming and its own table; only these rules are common.
 */
export class WorkLoop {
  /** Names this process in `locked_by`: which host and process hold a row. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  /**
   * A lease outlives the slowest unit of work (`workTimeoutMs`, a UXC call or
   * a webhook request) by a margin for the writes after it: at least 1 s, at
   * most 5 s, proportionate in between. It is renewed while the work runs,
   * so it only runs out for a process that died, whose rows are then taken over.
   */
  readonly leaseMs: number;
  /** Leases are renewed three times per lease, so one missed beat loses nothing. */
  readonly heartbeatMs: number;
  /** A stop waits this long for work in flight: its timeout and a little, at most 10 s. */
  readonly stopDeadlineMs: number;

  constructor(workTimeoutMs: number) {
    this.leaseMs = workTimeoutMs + Math.min(5000, Math.max(1000, workTimeoutMs));
    this.heartbeatMs = Math.max(200, Math.floor(this.leaseMs / 3));
    this.stopDeadlineMs = Math.min(workTimeoutMs + 500, STOP_DEADLINE_MAX_MS);
  }

  /**
   * The first half of a stop: waits until every piece of work in flight has
   * settled, or the stop deadline passed. Answers whether all settled; the
   * caller tears down the rest, then gives its leases back.
   */
  async drain(inFlight: Iterable<Promise<unknown>>): Promise<boolean> {
    const work = [...inFlight];
    if (work.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.allSettled(work).then(() => true),
      new Promise<boolean>((done) => (timer = setTimeout(() => done(false), this.stopDeadlineMs))),
    ]);
    clearTimeout(timer);
    return settled;
  }
}
