import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { QueueObservationStore } from '../estimates/queue-observation.store';
import { txRunner } from '../outbox/sql';
import type { TaskState } from '../common/states';
import { Prisma, Task, TaskEvent } from '../generated/prisma/client';
import {
  APPLY_TASK_CHANGES,
  changesJson,
  takeSequences,
  TaskChanges,
  taskOfRow,
} from './task.store';
import { encodeEventIdRange, TASK_EVENT_CHANNEL } from './task-event-channel';
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
    private readonly prisma: PrismaService,
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
    return this.prisma.$transaction(
      async (tx) => {
        const rows = await takeSequences(
          tx,
          batch.map((item) => item.lease),
        );
        const sequenceOf = new Map(rows.map((row) => [row.id, row.sequence]));
        const held = batch.filter((item) => sequenceOf.has(item.lease.taskId));
        if (held.length === 0) return batch.map(() => null);
        const events = await tx.taskEvent.createManyAndReturn({
          data: held.map((item) => ({
            ...item.event,
            taskId: item.lease.taskId,
            sequence: sequenceOf.get(item.lease.taskId) as number,
          })),
        });
        const eventOf = new Map(events.map((event) => [event.taskId, event]));
        // one notification for the whole batch, sent on commit: streams and long
        // polls on every process read the rows back (see task-event-channel.ts)
        const range = encodeEventIdRange(events.map((event) => event.id));
        if (range) await tx.$executeRaw`SELECT pg_notify(${TASK_EVENT_CHANNEL}, ${range})`;
        const updated = await tx.$queryRawUnsafe<Record<string, unknown>[]>(
          APPLY_TASK_CHANGES,
          held.map((item) => item.lease.taskId),
          held.map((item) => changesJson(item.changes)),
        );
        const taskOf = new Map(updated.map((row) => [row.id as string, taskOfRow(row)]));
        const changed = held.map((item) => ({
          task: taskOf.get(item.lease.taskId) as Task,
          event: eventOf.get(item.lease.taskId) as TaskEvent,
        }));
        const counts = await this.outbox.enqueueForEvents(tx, changed);
        // what the ETA of queued tasks learns from: one insert for the batch
        await this.observations.record(
          txRunner(tx),
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
        const written = new Map(
          changed.map((change, i) => [change.task.id, { ...change, deliveries: counts[i] }]),
        );
        return batch.map((item) => written.get(item.lease.taskId) ?? null);
      },
      { timeout: 60_000, maxWait: 60_000 },
    );
  }
}
