import { WorkLoop } from '../common/work-loop';
import { PrismaService } from '../database/prisma.service';
import { Prisma } from '../generated/prisma/client';

/** A task as claimed for one poll: what the poll compares with, and whom to ask as. */
export interface ClaimedTask {
  id: string;
  tenantId: string;
  sid: string;
  state: string | null;
  status: number | null;
  progress: number | null;
  queueNum: number | null;
  queueTotal: number | null;
  costTime: number | null;
  message: string | null;
  outputResult: unknown;
  trackingSince: Date;
  errorSince: Date | null;
  consecutiveErrors: number;
  lastErrNo: number | null;
  lastErrMsg: string | null;
  uxcAk: string;
  uxcSkEnc: string;
  /** The claim lane it was taken from (`pollLane`): 0 is waited for, 1 is deep in UXC's queue. */
  pollLane: number;
  /** Whether any subscription still waits on the task. */
  hasSubscribers: boolean;
  /** How late the poll is: claim time minus `next_poll_at`, in milliseconds. */
  lagMs: number;
}

/**
 * A poller whose heartbeat (its last claim) is older than this is not counted
 * when the due tasks are shared out. A poller ticks at least every 250 ms.
 */
export const POLLER_LIVENESS_MS = 5000;

/**
 * The part of each claim kept for lane 1 (queued behind the head) while lane
 * 0 has more due than the rest: enough that a deep queue keeps moving, small
 * enough that the running tasks keep most of the credential's rate.
 */
export const LANE_1_SHARE = 0.1;

/**
 * The tasks table's poller transitions (claim, extend, complete, idle,
 * release) under leases on `tasks` rows, so any number of pollers on one database share the
 * due tasks and none polls a task another is polling. A lease is
 * `locked_by` + `locked_until`; one that expired (its poller died) is taken
 * over at the next claim. Also the one writer of `poller_heartbeats`.
 */
export class TaskStore {
  readonly owner: string;
  readonly leaseMs: number;

  constructor(
    private readonly prisma: PrismaService,
    readonly loop: WorkLoop,
  ) {
    this.owner = loop.owner;
    this.leaseMs = loop.leaseMs;
  }

  /**
   * Claims this poller's share of the due tasks in one statement: at most
   * `limit`, and at most the due tasks divided by the live pollers (rounded
   * up), so the poller that ticks first does not take everything while the
   * others idle. The claim also beats this poller's heartbeat, which is how
   * the others count it. Each lane (`pollLane`) is counted and taken on its
   * own part of the (tracking, poll_lane, next_poll_at) index, the longest
   * overdue first: lane 1 gets LANE_1_SHARE of the batch (more when lane 0
   * has fewer due), lane 0 the rest. Counting stops at `limit` × pollers per
   * lane, so the claim's cost stays bounded however many are due.
   */
  async claim(limit: number): Promise<ClaimedTask[]> {
    if (limit <= 0) return [];
    return this.prisma.$queryRaw<ClaimedTask[]>`
      WITH beat AS (
        INSERT INTO poller_heartbeats (owner, seen_at) VALUES (${this.owner}, now())
        ON CONFLICT (owner) DO UPDATE SET seen_at = EXCLUDED.seen_at
      ), pollers AS (
        -- this poller counts once whether or not its row existed before this statement
        SELECT count(*) + 1 AS n FROM poller_heartbeats
        WHERE seen_at > now() - ${POLLER_LIVENESS_MS} * interval '1 millisecond'
          AND owner <> ${this.owner}
      ), due AS MATERIALIZED (
        -- each lane's share of the due tasks, counted once (not once per use below)
        SELECT
          ceil((SELECT count(*) FROM (
            SELECT 1 FROM tasks
            WHERE tracking = 'active' AND poll_lane = 0
              AND next_poll_at <= now()
              AND (locked_until IS NULL OR locked_until < now())
            LIMIT ${limit} * (SELECT n FROM pollers)
          ) d)::float8 / (SELECT n FROM pollers))::int AS lane0,
          ceil((SELECT count(*) FROM (
            SELECT 1 FROM tasks
            WHERE tracking = 'active' AND poll_lane = 1
              AND next_poll_at <= now()
              AND (locked_until IS NULL OR locked_until < now())
            LIMIT ${limit} * (SELECT n FROM pollers)
          ) d)::float8 / (SELECT n FROM pollers))::int AS lane1
      ), batch AS (
        SELECT lane0, lane1, least(${limit}, lane0 + lane1) AS n FROM due
      ), share AS MATERIALIZED (
        -- lane 1's share, rounded up or down at random so that small batches
        -- (one freed slot) still give it LANE_1_SHARE on average
        SELECT n, least(lane1, greatest(n - lane0,
          floor(n * ${LANE_1_SHARE}::float8 + random())::int)) AS lane1
        FROM batch
      ), next0 AS (
        SELECT id FROM tasks
        WHERE tracking = 'active' AND poll_lane = 0
          AND next_poll_at <= now()
          AND (locked_until IS NULL OR locked_until < now())
        ORDER BY next_poll_at
        LIMIT (SELECT n - lane1 FROM share)
        FOR UPDATE SKIP LOCKED
      ), next1 AS (
        SELECT id FROM tasks
        WHERE tracking = 'active' AND poll_lane = 1
          AND next_poll_at <= now()
          AND (locked_until IS NULL OR locked_until < now())
        ORDER BY next_poll_at
        LIMIT (SELECT lane1 FROM share)
        FOR UPDATE SKIP LOCKED
      ), next AS (
        SELECT id FROM next0 UNION ALL SELECT id FROM next1
      )
      UPDATE tasks t
      SET locked_by = ${this.owner},
          locked_until = now() + ${this.leaseMs} * interval '1 millisecond'
      FROM next, tenants ten
      WHERE t.id = next.id AND ten.id = t.tenant_id
      RETURNING
        t.id, t.tenant_id AS "tenantId", t.sid, t.state, t.status, t.progress,
        t.queue_num AS "queueNum", t.queue_total AS "queueTotal", t.cost_time AS "costTime",
        t.message, t.output_result AS "outputResult", t.tracking_since AS "trackingSince",
        t.error_since AS "errorSince", t.consecutive_errors AS "consecutiveErrors",
        t.last_err_no AS "lastErrNo", t.last_err_msg AS "lastErrMsg", t.poll_lane AS "pollLane",
        ten.uxc_ak AS "uxcAk", ten.uxc_sk_enc AS "uxcSkEnc",
        t.tracked_at IS NOT NULL OR EXISTS (
          SELECT 1 FROM subscriptions s WHERE s.task_id = t.id AND s.state = 'active'
        ) AS "hasSubscribers",
        (extract(epoch FROM now() - t.next_poll_at) * 1000)::float8 AS "lagMs"`;
  }

  /**
   * Pushes the leases of tasks still being polled further out: a poll waiting
   * for its credential's rate-limit token must not lose its task to another
   * poller while it waits.
   */
  async extend(taskIds: string[]): Promise<number> {
    if (taskIds.length === 0) return 0;
    return this.prisma.$executeRaw`
      UPDATE tasks SET locked_until = now() + ${this.leaseMs} * interval '1 millisecond'
      WHERE locked_by = ${this.owner} AND id = ANY(${taskIds}::text[])`;
  }

  /**
   * Applies `changes` and gives the task back, if this poller still holds it.
   * Returns false when the lease was lost (nothing is written then).
   */
  async complete(taskId: string, changes: Prisma.TaskUpdateManyMutationInput): Promise<boolean> {
    const { count } = await this.prisma.task.updateMany({
      where: { id: taskId, lockedBy: this.owner },
      data: { ...changes, lockedBy: null, lockedUntil: null },
    });
    return count === 1;
  }

  /**
   * Stops polling a task whose last subscription is gone. The subscription
   * check runs after the task row is locked: a subscription created meanwhile
   * (which locks the row too, through `TaskOutbox.track`) is either seen here,
   * or wakes the task after this commits.
   */
  async idleIfUnsubscribed(taskId: string, now: Date): Promise<'idle' | 'subscribed' | 'lost'> {
    return this.prisma.$transaction(async (tx) => {
      const held = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM tasks WHERE id = ${taskId} AND locked_by = ${this.owner} FOR UPDATE`;
      if (held.length === 0) return 'lost';
      const idle = await goIdleIfUnsubscribed(tx, taskId, now);
      await tx.$executeRaw`
        UPDATE tasks SET locked_by = NULL, locked_until = NULL WHERE id = ${taskId}`;
      return idle ? 'idle' : 'subscribed';
    });
  }

  /** Gives back every task this poller still holds (at shutdown). */
  async releaseAll(): Promise<number> {
    // the others share the due tasks without this poller from their next claim
    await this.prisma.$executeRaw`
      DELETE FROM poller_heartbeats
      WHERE owner = ${this.owner} OR seen_at < now() - interval '1 day'`;
    return this.prisma.$executeRaw`
      UPDATE tasks SET locked_by = NULL, locked_until = NULL WHERE locked_by = ${this.owner}`;
  }
}

/**
 * "Go idle when the last subscription is gone", written once: an active task
 * that no active subscription waits on any more stops being polled (a new
 * subscription wakes it). A task tracked with POST /v1/tasks (`tracked_at`)
 * is polled for the tenant's endpoints whether or not any exist yet, so it
 * never goes idle this way. The caller holds the task's row lock, so a
 * subscription created concurrently (which takes it too) is either seen here
 * or wakes the task after this commits. Answers whether the task went idle.
 */
export async function goIdleIfUnsubscribed(
  tx: Prisma.TransactionClient,
  taskId: string,
  now: Date,
): Promise<boolean> {
  const went = await tx.$executeRaw`
    UPDATE tasks SET tracking = 'idle', next_poll_at = NULL, updated_at = ${now}
    WHERE id = ${taskId} AND tracking = 'active' AND tracked_at IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM subscriptions s WHERE s.task_id = ${taskId} AND s.state = 'active'
      )`;
  return went > 0;
}
