import type { SendResult } from './webhook-sender';

/** How far a scheduled delay may stray either way, so retries of one outage do not arrive in lockstep. */
export const RETRY_JITTER = 0.2;

/** What to do with a delivery after one attempt. */
export type AttemptDecision =
  | { kind: 'succeeded' }
  /** 410 Gone: the receiver wants no more messages for this subscription. */
  | { kind: 'gone' }
  | { kind: 'retry'; delayMs: number }
  /** The schedule is used up: the delivery waits for a redelivery by hand. */
  | { kind: 'failed' };

/**
 * The delay before the next attempt once `attemptsMade` attempts have failed,
 * or `null` when the schedule is used up. `schedule[i]` is the wait after
 * attempt i+1, so a schedule of n delays allows n+1 attempts in all.
 */
export function scheduledDelay(
  attemptsMade: number,
  schedule: readonly number[],
  random: () => number = Math.random,
): number | null {
  const base = schedule[attemptsMade - 1];
  if (attemptsMade < 1 || base === undefined) return null;
  return Math.max(1, Math.round(base * (1 + (random() * 2 - 1) * RETRY_JITTER)));
}

/**
 * Turns what the sender saw into the delivery's next step. Anything but a 2xx
 * or a 410 is a failure worth retrying: a 4xx may be a receiver's deploy gone
 * wrong, and a connect-time policy refusal may clear when the DNS answer
 * changes back. A Retry-After (429/503, already clamped by the sender) replaces
 * the scheduled wait but still counts as one attempt of the schedule.
 */
export function decideAfterAttempt(
  result: Pick<SendResult, 'statusCode' | 'retryAfterMs'>,
  attemptsMade: number,
  schedule: readonly number[],
  random: () => number = Math.random,
): AttemptDecision {
  const status = result.statusCode;
  if (status !== null && status >= 200 && status < 300) return { kind: 'succeeded' };
  if (status === 410) return { kind: 'gone' };
  const delay = scheduledDelay(attemptsMade, schedule, random);
  if (delay === null) return { kind: 'failed' };
  return { kind: 'retry', delayMs: result.retryAfterMs ?? delay };
}
