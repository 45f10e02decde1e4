import type { Receipt } from '../peers/receiver';
import { quantile, round } from './http';
import { FakeUxcClock, indexOf, momentOf, PlanSpec, PlanStep, planFor } from './plans';

export interface Latency {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function latencyOf(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: round(quantile(sorted, 0.5)),
    p95Ms: round(quantile(sorted, 0.95)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
  };
}

/** The moment (fake UXC clock) a step began, or null for a task's first step. */
export function stepMoment(
  steps: PlanStep[],
  k: number,
  index: number,
  clock: FakeUxcClock,
): number | null {
  if (k === 0) return null;
  const moment = momentOf(steps, k, index, clock);
  return Number.isFinite(moment) ? moment : null;
}

/**
 * Notify latency of each webhook: the receiver's receipt time minus the
 * moment the fake UXC changed the task to the step the webhook reports (its
 * `message`). A task's first step has no such moment and is left out.
 */
export function notifyLatencies(
  receipts: Receipt[],
  spec: PlanSpec,
  clock: FakeUxcClock,
): number[] {
  const plans = new Map<number, PlanStep[]>();
  const out: number[] = [];
  for (const r of receipts) {
    const index = indexOf(r.sid);
    let steps = plans.get(index);
    if (steps === undefined) plans.set(index, (steps = planFor(spec, index)));
    const k = steps.findIndex((s) => s.message === r.message);
    if (k < 0) continue;
    const moment = stepMoment(steps, k, index, clock);
    if (moment !== null) out.push(r.at - moment);
  }
  return out;
}

/** The most webhooks received in any `windowMs` window, per second. */
export function peakRate(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return round(best / (windowMs / 1000));
}

export interface OrderCheck {
  duplicates: number;
  /** webhooks that came after a later sequence of the same subscription */
  outOfOrder: number;
}

export function orderCheck(receipts: Receipt[]): OrderCheck {
  const ids = new Set<string>();
  const last = new Map<string, number>();
  let duplicates = 0;
  let outOfOrder = 0;
  for (const r of [...receipts].sort((a, b) => a.at - b.at)) {
    if (ids.has(r.webhookId)) duplicates++;
    ids.add(r.webhookId);
    const before = last.get(r.subscriptionId) ?? -1;
    if (r.sequence < before) outOfOrder++;
    last.set(r.subscriptionId, Math.max(before, r.sequence));
  }
  return { duplicates, outOfOrder };
}

export async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(everyMs);
  }
  console.log(`  (gave up waiting for ${what} after ${timeoutMs / 1000} s)`);
  return false;
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
