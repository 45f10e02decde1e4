import type {
  AttemptRecord,
  Completion,
  DeliveryOutcome,
  LaneHead,
  LaneNext,
  LeasedLane,
} from '../outbox/delivery.store';
import type { AttemptDecision } from './retry-policy';

/**
 * "Supersede stale progress", written once: a progress head with a newer
 * delivery of its subscription queued behind it says nothing the newer one
 * will not, so it is not sent (or, after a failed attempt, not retried).
 * A detached head is not: what is behind it no longer waits for it.
 */
export function isStaleProgress(head: Pick<LaneHead, 'eventType' | 'more' | 'detached'>): boolean {
  return head.eventType === 'task.progress' && head.more && !head.detached;
}

/**
 * What to do with a leased lane's head of line before sending anything:
 * `send` it, or a completion that moves the lane on without a request.
 * - no head: the lane is idle;
 * - a progress head with a newer delivery behind it is superseded, unsent;
 * - a head not yet due (the lane was woken early) that has been failing past
 *   the order hold while others wait is detached, so they go first;
 * - otherwise a head not yet due puts the lane back until it is.
 */
export function decideHead(
  lane: LeasedLane,
  head: LaneHead | undefined,
  now: Date,
  orderHoldMs: number,
): { send: true } | { send: false; completion: Completion } {
  if (!head) return skip(lane, null, 'release', null, 'idle', null, null);
  if (isStaleProgress(head)) {
    return skip(lane, head.id, 'superseded', null, 'now', null, null);
  }
  if (head.nextAttemptAt.getTime() > now.getTime()) {
    const holdEnd = holdEndOf(head, orderHoldMs);
    if (head.more && holdEnd !== null && holdEnd <= now.getTime()) {
      return skip(lane, head.id, 'detach', head.nextAttemptAt, 'now', null, null);
    }
    const at = earliest(head.nextAttemptAt.getTime(), holdEnd, now.getTime());
    return skip(lane, head.id, 'release', null, 'at', new Date(at), dateOrNull(holdEnd));
  }
  return { send: true };
}

/**
 * What an attempt's outcome does to the delivery and its lane. A failing
 * head keeps later deliveries of its subscription back for at most the order
 * hold, counted from its first failure; after that it retries in a lane of its
 * own and they overtake it. Failed progress with something newer behind it
 * is superseded rather than retried.
 */
export function completeAttempt(
  lane: LeasedLane,
  head: LaneHead,
  decision: AttemptDecision,
  attempt: AttemptRecord,
  orderHoldMs: number,
): Completion {
  const afterHead: LaneNext = head.more && !head.detached ? 'now' : 'idle';
  const base = { lane, deliveryId: head.id, attempt, holdUntil: null, laneAt: null };
  switch (decision.kind) {
    case 'succeeded':
      return { ...base, outcome: 'succeeded', nextAttemptAt: null, laneNext: afterHead };
    case 'failed':
      return { ...base, outcome: 'failed', nextAttemptAt: null, laneNext: afterHead };
    case 'gone':
      return { ...base, outcome: 'gone', nextAttemptAt: null, laneNext: 'idle' };
    case 'retry': {
      const at = attempt.at.getTime();
      const next = new Date(at + decision.delayMs);
      if (isStaleProgress(head)) {
        return { ...base, outcome: 'superseded', nextAttemptAt: null, laneNext: 'now' };
      }
      if (head.detached) {
        return { ...base, outcome: 'retry', nextAttemptAt: next, laneNext: 'at', laneAt: next };
      }
      const holdEnd = (head.firstFailedAt?.getTime() ?? at) + orderHoldMs;
      if (head.more && holdEnd <= at) {
        return { ...base, outcome: 'detach', nextAttemptAt: next, laneNext: 'now' };
      }
      return {
        ...base,
        outcome: 'retry',
        nextAttemptAt: next,
        laneNext: 'at',
        laneAt: new Date(earliest(next.getTime(), holdEnd, at)),
        holdUntil: new Date(holdEnd),
      };
    }
  }
}

/** A request torn down at shutdown: logged, nothing else changes, the lane is due again. */
export function releaseAttempt(
  lane: LeasedLane,
  head: LaneHead,
  attempt: AttemptRecord | null,
): Completion {
  return {
    lane,
    deliveryId: head.id,
    outcome: 'release',
    nextAttemptAt: null,
    laneNext: 'now',
    laneAt: null,
    holdUntil: null,
    attempt,
  };
}

function holdEndOf(head: LaneHead, orderHoldMs: number): number | null {
  if (head.detached || head.firstFailedAt === null) return null;
  return head.firstFailedAt.getTime() + orderHoldMs;
}

/** The earlier of a time and a hold end still ahead. */
function earliest(at: number, holdEnd: number | null, now: number): number {
  return holdEnd !== null && holdEnd > now ? Math.min(at, holdEnd) : at;
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function skip(
  lane: LeasedLane,
  deliveryId: string | null,
  outcome: DeliveryOutcome,
  nextAttemptAt: Date | null,
  laneNext: LaneNext,
  laneAt: Date | null,
  holdUntil: Date | null,
): { send: false; completion: Completion } {
  return {
    send: false,
    completion: {
      lane,
      deliveryId,
      outcome,
      nextAttemptAt,
      laneNext,
      laneAt,
      holdUntil,
      attempt: null,
    },
  };
}
