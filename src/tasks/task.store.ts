import { WorkLoop } from '../common/work-loop';
import { DatabasePool } from '../database/database-pool';
import { PrismaService } from '../database/prisma.service';
import type { TaskState } from '../common/states';
import { Prisma, Task } from '../generated/prisma/client';

/** A task as claimed for one poll: what the poll compares with, and whom to ask as. */
export interface ClaimedTask {
  id: string;
  tenantId: string;
  sid: string;
  state: TaskState | null;
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

/** The due tasks of one claim lane that nobody holds, off the (tracking, poll_lane, next_poll_at) index. */
function dueInLane(lane: 0 | 1): string {
  return `SELECT id FROM tasks
    WHERE tracking = 'active' AND poll_lane = ${lane}
      AND next_poll_at <= now()
      AND (locked_until IS NULL OR locked_until < now())`;
}

// claim (see TaskStore.claim): $1 the poller, $2 POLLER_LIVENESS_MS, $3 the
// most it takes, $4 LANE_1_SHARE, $5 its lease in ms. A named statement, so
// each connection plans it once instead of at every claim.
const CLAIM = `
  WITH beat AS (
    INSERT INTO poller_heartbeats (owner, seen_at) VALUES ($1::text, now())
    ON CONFLICT (owner) DO UPDATE SET seen_at = EXCLUDED.seen_at
  ), pollers AS (
    -- this poller counts once whether or not its row existed before this statement
    SELECT count(*) + 1 AS n FROM poller_heartbeats
    WHERE seen_at > now() - $2::float8 * interval '1 millisecond'
      AND owner <> $1::text
  ), due AS MATERIALIZED (
    -- each lane's share of the due tasks, counted once (not once per use below)
    SELECT
      ceil((SELECT count(*) FROM (
        ${dueInLane(0)}
        LIMIT $3::int * (SELECT n FROM pollers)
      ) d)::float8 / (SELECT n FROM pollers))::int AS lane0,
      ceil((SELECT count(*) FROM (
        ${dueInLane(1)}
        LIMIT $3::int * (SELECT n FROM pollers)
      ) d)::float8 / (SELECT n FROM pollers))::int AS lane1
  ), batch AS (
    SELECT lane0, lane1, least($3::int, lane0 + lane1) AS n FROM due
  ), share AS MATERIALIZED (
    -- lane 1's share, rounded up or down at random so that small batches
    -- (one freed slot) still give it LANE_1_SHARE on average
    SELECT n, least(lane1, greatest(n - lane0,
      floor(n * $4::float8 + random())::int)) AS lane1
    FROM batch
  ), next0 AS (
    ${dueInLane(0)}
    ORDER BY next_poll_at
    LIMIT (SELECT n - lane1 FROM share)
    FOR UPDATE SKIP LOCKED
  ), next1 AS (
    ${dueInLane(1)}
    ORDER BY next_poll_at
    LIMIT (SELECT lane1 FROM share)
    FOR UPDATE SKIP LOCKED
  ), next AS (
    SELECT id FROM next0 UNION ALL SELECT id FROM next1
  )
  UPDATE tasks t
  SET locked_by = $1::text,
      locked_until = now() + $5::float8 * interval '1 millisecond'
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
    private readonly database: DatabasePool,
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
    const { rows } = await this.database.pool.query<ClaimedTask>({
      name: 'poller.claim',
      text: CLAIM,
      values: [this.owner, POLLER_LIVENESS_MS, limit, LANE_1_SHARE, this.leaseMs],
    });
    return rows;
  }

  /**
   * Pushes the leases of tasks still being polled further out: a poll waiting
   * for its credential's rate-limit token must not lose its task to another
   * poller while it waits.
   *
   * A row locked right now is skipped, not waited for: its lock is this
   * process's own history write (which takes the task's next sequence), and
   * the two statements locking the same rows in different orders deadlocked.
   * The next beat renews it; the lease has two more beats of margin.
   */
  async extend(taskIds: string[]): Promise<number> {
    if (taskIds.length === 0) return 0;
    return this.prisma.$executeRaw`
      WITH held AS (
        SELECT id FROM tasks
        WHERE locked_by = ${this.owner} AND id = ANY(${taskIds}::text[])
        ORDER BY id
        FOR UPDATE SKIP LOCKED
      )
      UPDATE tasks t SET locked_until = now() + ${this.leaseMs} * interval '1 millisecond'
      FROM held WHERE t.id = held.id`;
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

// The wake rule of `track`, written once for every statement that tracks
// tasks: a task that stopped being polled for want of subscribers, or that
// expired or gave up on errors, is polled again at once; a completed task
// stays completed.
const WAKE_ON_TRACK = `
      tracking = (CASE WHEN tasks.tracking = 'completed' THEN 'completed' ELSE 'active' END)::task_tracking,
      tracking_since = CASE WHEN tasks.tracking IN ('expired', 'error') THEN now() ELSE tasks.tracking_since END,
      error_since = CASE WHEN tasks.tracking IN ('expired', 'error') THEN NULL ELSE tasks.error_since END,
      consecutive_errors = CASE WHEN tasks.tracking IN ('expired', 'error') THEN 0 ELSE tasks.consecutive_errors END,
      next_poll_at = CASE WHEN tasks.tracking IN ('idle', 'expired', 'error') THEN now() ELSE tasks.next_poll_at END`;

/**
 * track, as a fragment of a larger statement: inserts the tasks that `select`
 * yields as `(id, tenant_id, sid)` (`forEndpoints`: also `metadata`, and the
 * tasks are marked as tracked for the tenant's endpoints), or wakes the ones
 * known already (WAKE_ON_TRACK). Rows are written in `(tenant, sid)` order,
 * so two statements on the same tasks lock them in one order and never deadlock.
 */
export function trackTasksSql(
  select: string,
  returning: string,
  { forEndpoints = false }: { forEndpoints?: boolean } = {},
): string {
  if (forEndpoints) {
    return `
    INSERT INTO tasks (id, tenant_id, sid, tracking, next_poll_at, tracking_since, first_seen_at,
                       updated_at, tracked_at, metadata)
    SELECT id, tenant_id, sid, 'active'::task_tracking, now(), now(), now(), now(), now(), metadata
    FROM (${select}) AS track_input ORDER BY tenant_id, sid
    ON CONFLICT (tenant_id, sid) DO UPDATE SET${WAKE_ON_TRACK},
      tracked_at = coalesce(tasks.tracked_at, now()),
      metadata = coalesce(excluded.metadata, tasks.metadata)
    RETURNING ${returning}`;
  }
  return `
    INSERT INTO tasks (id, tenant_id, sid, tracking, next_poll_at, tracking_since, first_seen_at, updated_at)
    SELECT id, tenant_id, sid, 'active'::task_tracking, now(), now(), now(), now()
    FROM (${select}) AS track_input ORDER BY tenant_id, sid
    ON CONFLICT (tenant_id, sid) DO UPDATE SET${WAKE_ON_TRACK}
    RETURNING ${returning}`;
}

const TRACK_ONE = trackTasksSql(
  'SELECT $1::text AS id, $2::text AS tenant_id, $3::text AS sid',
  'id',
);

/** track: makes `(tenant, sid)` known to the poller, or wakes it up again (see WAKE_ON_TRACK). */
export async function trackTask(
  tx: Prisma.TransactionClient,
  newTaskId: string,
  tenantId: string,
  sid: string,
): Promise<Task> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(TRACK_ONE, newTaskId, tenantId, sid);
  return tx.task.findUniqueOrThrow({ where: { id: rows[0].id } });
}

/**
 * purge: deletes up to `limit` tasks that finished before `cutoff`; their
 * events, subscriptions, deliveries and attempts go with them (foreign keys
 * cascade). An idle task (no subscriber left) counts from when it went idle;
 * it is skipped if a new subscription has just woken it (tracking is active
 * again).
 */
export function purgeFinishedTasks(
  prisma: PrismaService,
  cutoff: Date,
  limit: number,
): Promise<number> {
  return prisma.$executeRaw`
    DELETE FROM tasks WHERE id IN (
      SELECT id FROM tasks
      WHERE tracking IN ('completed', 'expired', 'error', 'idle')
        AND COALESCE(finished_at, updated_at) < ${cutoff}
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )`;
}

// record (the polls that changed nothing): `t.id = ANY ($1)` keeps the update
// on the primary key whatever the planner believes of a table that has no
// statistics yet.
export const RECORD_POLL_RESULTS = `
  UPDATE tasks t SET
    last_polled_at = u.last_polled_at,
    next_poll_at = u.next_poll_at,
    error_since = u.error_since,
    consecutive_errors = u.consecutive_errors,
    last_err_no = CASE WHEN u.has_error THEN u.err_no ELSE t.last_err_no END,
    last_err_msg = CASE WHEN u.has_error THEN u.err_msg ELSE t.last_err_msg END,
    locked_by = NULL,
    locked_until = NULL
  FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::int[],
              $6::boolean[], $7::int[], $8::text[])
    AS u(id, last_polled_at, next_poll_at, error_since, consecutive_errors, has_error, err_no, err_msg)
  WHERE t.id = ANY ($1::text[]) AND t.id = u.id AND t.locked_by = $9
  RETURNING t.id`;
/** What a poll may change on a task, as the poller writes it. */
export type TaskChanges = Omit<Prisma.TaskUncheckedUpdateInput, 'lockedBy' | 'lockedUntil'>;

/** Each field a poll writes, its column and the SQL type its JSON text is cast to. */
const COLUMNS: Record<string, { column: string; type: string }> = {
  state: { column: 'state', type: 'task_state' },
  status: { column: 'status', type: 'int' },
  progress: { column: 'progress', type: 'float8' },
  queueNum: { column: 'queue_num', type: 'int' },
  queueTotal: { column: 'queue_total', type: 'int' },
  pollLane: { column: 'poll_lane', type: 'int' },
  costTime: { column: 'cost_time', type: 'float8' },
  message: { column: 'message', type: 'text' },
  outputResult: { column: 'output_result', type: 'jsonb' },
  photoParameters: { column: 'photo_parameters', type: 'jsonb' },
  podIp: { column: 'pod_ip', type: 'text' },
  podPort: { column: 'pod_port', type: 'text' },
  tracking: { column: 'tracking', type: 'task_tracking' },
  updatedAt: { column: 'updated_at', type: 'timestamptz' },
  lastPolledAt: { column: 'last_polled_at', type: 'timestamptz' },
  nextPollAt: { column: 'next_poll_at', type: 'timestamptz' },
  finishedAt: { column: 'finished_at', type: 'timestamptz' },
  errorSince: { column: 'error_since', type: 'timestamptz' },
  consecutiveErrors: { column: 'consecutive_errors', type: 'int' },
  lastErrNo: { column: 'last_err_no', type: 'int' },
  lastErrMsg: { column: 'last_err_msg', type: 'text' },
};

function valueOf(column: string, type: string): string {
  if (type === 'jsonb') {
    return `CASE WHEN jsonb_typeof(c.v -> '${column}') = 'null' THEN NULL ELSE c.v -> '${column}' END`;
  }
  return `(c.v ->> '${column}')::${type}`;
}

// apply under lease (a poll's changes, as the history write's first step):
// each task of a batch that its poller still holds takes its next
// history sequence, gets its changes (a field a change leaves out keeps its
// value) and is given back, all in this one statement. The counter lives on
// the task row and the row lock orders concurrent writers of one task, so a
// sequence is never handed out twice, not across restarts, not across
// replicas. A task whose lease was lost is not returned, and nothing of it is
// written. `$1` task ids, `$2` the changes as `changesJson` made them, `$3` the
// `locked_by` each poll held its task under.
export const APPLY_HELD_TASK_CHANGES = `
  UPDATE tasks t SET
    sequence = t.sequence + 1,
    ${Object.values(COLUMNS)
      .map(
        ({ column, type }) =>
          `${column} = CASE WHEN c.v ? '${column}' THEN ${valueOf(column, type)} ELSE t.${column} END`,
      )
      .join(',\n    ')},
    locked_by = NULL,
    locked_until = NULL
  FROM unnest($1::text[], $2::jsonb[], $3::text[]) AS c(id, v, owner)
  WHERE t.id = ANY ($1::text[]) AND t.id = c.id AND t.locked_by = c.owner
  RETURNING t.*`;

/** The changes as the statement's JSON: column names, Prisma's DbNull as JSON null. */
export function changesJson(changes: TaskChanges): string {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const target = COLUMNS[field];
    if (!target) throw new Error(`a poll does not write tasks.${field}`);
    out[target.column] = value === Prisma.DbNull || value === Prisma.JsonNull ? null : value;
  }
  return JSON.stringify(out);
}

/** A `tasks` row as the statement returns it, with Prisma's field names. */
export function taskOfRow(row: Record<string, unknown>): Task {
  const task: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    task[column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())] = value;
  }
  return task as unknown as Task;
}
