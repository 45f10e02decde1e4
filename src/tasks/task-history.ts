import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { Prisma, Task, TaskEvent } from '../generated/prisma/client';
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
  state?: string | null;
  status?: number | null;
  previousState?: string | null;
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

/**
 * Appends to a task's history. Each row takes the task's next sequence, and in
 * the same transaction the task's current state changes and the deliveries of
 * notified events are queued: either all of it is written, or none.
 */
@Injectable()
export class TaskHistory {
  constructor(
    private readonly prisma: PrismaService,
    private readonly outbox: TaskOutbox,
  ) {}

  /** Writing the change ends the poll, so the lease is given back with it. */
  async append(
    lease: TaskLease,
    event: NewTaskEvent,
    changes: Omit<Prisma.TaskUncheckedUpdateInput, 'lockedBy' | 'lockedUntil'>,
  ): Promise<{ task: Task; event: TaskEvent; deliveries: number }> {
    return this.prisma.$transaction(async (tx) => {
      // the row lock taken here orders concurrent writers of one task, and the
      // counter lives on the task row, so a sequence is never handed out twice,
      // not across restarts, not across replicas
      const rows = await tx.$queryRaw<{ sequence: number }[]>`
        UPDATE tasks SET sequence = sequence + 1
        WHERE id = ${lease.taskId} AND locked_by = ${lease.owner}
        RETURNING sequence`;
      if (rows.length === 0) throw new LeaseLostError(lease);
      const created = await tx.taskEvent.create({
        data: { ...event, taskId: lease.taskId, sequence: rows[0].sequence },
      });
      const task = await tx.task.update({
        where: { id: lease.taskId },
        data: { ...changes, lockedBy: null, lockedUntil: null },
      });
      const deliveries = await this.outbox.enqueueForEvent(tx, task, created);
      return { task, event: created, deliveries };
    });
  }
}
