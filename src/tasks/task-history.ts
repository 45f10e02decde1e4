import { Injectable } from '@nestjs/common';
import { DatabasePool } from '../database/database-pool';
import { QueueObservationStore } from '../estimates/queue-observation.store';
import { inPgTransaction, SqlRunner } from '../outbox/sql';
import type { TaskState } from '../common/states';
import { Prisma, Task, TaskEvent } from '../generated/prisma/client';
import { APPLY_HELD_TASK_CHANGES, changesJson, TaskChanges, taskOfRow } from './task.store';
import { TASK_EVENT_CHANNEL } from './task-event-channel';
import { TaskOutbox } from './task-outbox';

/** The poll that holds a task: its id and the `locked_by` of the poller holding it. */
export interface TaskLease {
  taskId: string;
  owner: string;
}

/** One history row before it has its sequence. */
export interface NewTaskEvent {
  /** `task.*` (notified) or `uxc.error` (history only). */
  type: string;
  state?: TaskState | null;
  status?: number | null;
  previousState?: TaskState | null;
  previousStatus?: number | null;
  progress?: number | null;
  queueNum?: number | null;
  queueTotal?: number | null;
  costTime?: number | null;
  message?: string | null;
  outputResult?: Prisma.InputJsonValue | Prisma.NullableJsonNullValueInput;
  errNo?: number | null;
  errMsg?: string | null;
  observedAt: Date;
}

/**
 * The task is no longer held by this poller (its lease expired and another
 * took it): nothing was written, and the other poller carries on.
 */
export class LeaseLostError extends Error {
  constructor(readonly lease: TaskLease) {
    super(`task ${lease.taskId} is no longer leased to ${lease.owner}`);
    this.name = 'LeaseLostError';
  }
}

interface QueuedAppend {
  lease: TaskLease;
  event: NewTaskEvent;
  changes: TaskChanges;
  resolve: (written: AppendedEvent) => void;
  reject: (error: unknown) => void;
}

export interface AppendedEvent {
  task: Task;
  event: TaskEvent;
  deliveries: number;
}

/** The columns of a history row, in the order WRITE_HISTORY takes them. */
const EVENT_COLUMNS = [
  ['type', 'text', 'text'],
  ['state', 'text', 'task_state'],
  ['status', 'int', 'int'],
  ['previous_state', 'text', 'task_state'],
  ['previous_status', 'int', 'int'],
  ['progress', 'float8', 'float8'],
  ['queue_num', 'int', 'int'],
  ['queue_total', 'int', 'int'],
  ['cost_time', 'float8', 'float8'],
  ['message', 'text', 'text'],
  ['output_result', 'jsonb', 'jsonb'],
  ['err_no', 'int', 'int'],
  ['err_msg', 'text', 'text'],
  ['observed_at', 'timestamptz', 'timestamptz'],
] as const;

// A batch's history in one statement and one round trip: the tasks still
// leased to their poller take their sequences and changes (the tasks store's
// APPLY_HELD_TASK_CHANGES, $1–$3), their events are inserted with those
// sequences ($4 on, in batch order), and one NOTIFY announces the span of the
// new rows' ids to event streams on every process (sent on commit). The
// notification is a MATERIALIZED CTE joined once, so it runs once, and only
// when a row was written. Event columns come back prefixed `event_`.
const WRITE_HISTORY = `
  WITH task AS (${APPLY_HELD_TASK_CHANGES}),
  event AS (
    INSERT INTO task_events (task_id, sequence, ${EVENT_COLUMNS.map(([column]) => column).join(', ')})
    SELECT e.task_id, task.sequence, ${EVENT_COLUMNS.map(([column, , type]) => `e.${column}::${type}`).join(', ')}
    FROM unnest($1::text[], ${EVENT_COLUMNS.map(([, array], i) => `$${i + 4}::${array}[]`).join(', ')})
      AS e(task_id, ${EVENT_COLUMNS.map(([column]) => column).join(', ')})
    JOIN task ON task.id = e.task_id
    RETURNING *
  ),
  announced AS MATERIALIZED (
    SELECT pg_notify($${EVENT_COLUMNS.length + 4}, min(id)::text || '-' || max(id)::text)
    FROM event HAVING count(*) > 0
  )
  SELECT task.*, ${['id', 'sequence', ...EVENT_COLUMNS.map(([column]) => column)]
    .map((column) => `event.${column} AS event_${column}`)
    .join(', ')}
  FROM task JOIN event ON event.task_id = task.id LEFT JOIN announced ON true`;

/** A history row's JSON column as the statement takes it: SQL NULL, JSON null, or the value. */
function outputResultText(value: NewTaskEvent['outputResult']): string | null {
  if (value === undefined || value === null || value === Prisma.DbNull) return null;
  if (value === Prisma.JsonNull) return 'null';
  return JSON.stringify(value);
}

/** A row of WRITE_HISTORY: the task as Prisma names its fields, and its new event. */
function writtenOfRow(row: Record<string, unknown>): { task: Task; event: TaskEvent } {
  const taskColumns: Record<string, unknown> = {};
  const eventColumns: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (column.startsWith('event_')) eventColumns[column.slice('event_'.length)] = value;
    else taskColumns[column] = value;
  }
  const task = taskOfRow(taskColumns);
  const event = taskOfRow(eventColumns) as unknown as TaskEvent;
  event.id = BigInt(eventColumns.id as string);
  event.taskId = task.id;
  return { task, event };
}

/** Appends written per transaction, at most. */
const APPEND_BATCH = 200;
/**
 * Appends that arrive while a transaction is being written go together into
 * the next one (group commit), so a trickle of changes costs a transaction
 * per round trip, not one per change: a transaction is some ten statements,
 * and their round trips, not their rows, are what a batch costs. Another
 * transaction starts beside the ones being written for every this many
 * appends waiting, so one write stuck on a row lock holds back only these.
 */
const WAITING_PER_WRITER = 50;
/** Transactions written side by side, at most. */
const MAX_WRITERS = 4;

/**
 * Appends to a task's history. Each row takes the task's next sequence, and in
 * the same transaction the task's current state changes and the deliveries of
 * notified events are queued: either all of it is written, or none, and one
 * NOTIFY announces the batch to event streams on every process. Appends
 * that arrive together (a poll cycle in which many tasks changed) share one
 * transaction and a handful of statements.
 */
@Injectable()
export class TaskHistory {
  private queue: QueuedAppend[] = [];
  private writers = 0;
  private gathering = false;

  constructor(
    private readonly database: DatabasePool,
    private readonly outbox: TaskOutbox,
    private readonly observations: QueueObservationStore,
  ) {}

  /** Writing the change ends the poll, so the lease is given back with it. */
  append(lease: TaskLease, event: NewTaskEvent, changes: TaskChanges): Promise<AppendedEvent> {
    return new Promise((resolve, reject) => {
      this.queue.push({ lease, event, changes, resolve, reject });
      this.kick();
    });
  }

  /** Starts a batch when none is being written, or beside them when many wait (WAITING_PER_WRITER). */
  private kick(): void {
    while (this.writers < this.writersWanted() && this.queue.length > 0 && !this.gathering) {
      this.writers++;
      void this.writeNext().finally(() => {
        this.writers--;
        this.kick();
      });
    }
  }

  private writersWanted(): number {
    return Math.min(MAX_WRITERS, 1 + Math.floor(this.queue.length / WAITING_PER_WRITER));
  }

  private async writeNext(): Promise<void> {
    // the appends of one tick go into one transaction
    this.gathering = true;
    await new Promise((done) => setImmediate(done));
    this.gathering = false;
    // one task twice in a batch would need two sequences from one statement:
    // its later append waits for the next batch
    const batch: QueuedAppend[] = [];
    const later: QueuedAppend[] = [];
    const seen = new Set<string>();
    for (const item of this.queue.splice(0)) {
      if (batch.length < APPEND_BATCH && !seen.has(item.lease.taskId)) {
        seen.add(item.lease.taskId);
        batch.push(item);
      } else later.push(item);
    }
    this.queue.unshift(...later);
    if (batch.length === 0) return;
    // batches written side by side lock their tasks in one order
    batch.sort((a, b) => (a.lease.taskId < b.lease.taskId ? -1 : 1));
    try {
      const written = await this.write(batch);
      batch.forEach((item, i) => {
        const result = written[i];
        if (result) item.resolve(result);
        else item.reject(new LeaseLostError(item.lease));
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }

  private write(batch: QueuedAppend[]): Promise<(AppendedEvent | null)[]> {
    return inPgTransaction(this.database.pool, async (sql) => {
      const rows = await sql.rows<Record<string, unknown>>({
        name: 'history.write',
        text: WRITE_HISTORY,
        values: [
          batch.map((item) => item.lease.taskId),
          batch.map((item) => changesJson(item.changes)),
          batch.map((item) => item.lease.owner),
          ...this.eventArrays(batch.map((item) => item.event)),
          TASK_EVENT_CHANNEL,
        ],
      });
      if (rows.length === 0) return batch.map(() => null);
      const changed = rows.map(writtenOfRow);
      const counts = await this.outbox.enqueueForEvents(sql, changed);
      await this.recordObservations(sql, changed);
      const written = new Map(
        changed.map((change, i) => [change.task.id, { ...change, deliveries: counts[i] }]),
      );
      return batch.map((item) => written.get(item.lease.taskId) ?? null);
    });
  }

  /** The events' columns as arrays, one per column of EVENT_COLUMNS. */
  private eventArrays(events: NewTaskEvent[]): unknown[][] {
    return [
      events.map((e) => e.type),
      events.map((e) => e.state ?? null),
      events.map((e) => e.status ?? null),
      events.map((e) => e.previousState ?? null),
      events.map((e) => e.previousStatus ?? null),
      events.map((e) => e.progress ?? null),
      events.map((e) => e.queueNum ?? null),
      events.map((e) => e.queueTotal ?? null),
      events.map((e) => e.costTime ?? null),
      events.map((e) => e.message ?? null),
      events.map((e) => outputResultText(e.outputResult)),
      events.map((e) => e.errNo ?? null),
      events.map((e) => e.errMsg ?? null),
      events.map((e) => e.observedAt),
    ];
  }

  /** What the ETA of queued tasks learns from: one insert for the batch. */
  private recordObservations(
    sql: SqlRunner,
    changed: { task: Task; event: TaskEvent }[],
  ): Promise<number> {
    return this.observations.record(
      sql,
      changed.map(({ task, event }) => ({
        tenantId: task.tenantId,
        taskId: task.id,
        type: event.type,
        state: event.state,
        previousState: event.previousState,
        queueNum: event.queueNum,
        costTime: event.costTime,
        observedAt: event.observedAt,
      })),
    );
  }
}
