import type { Task, TaskEvent } from '../../src/generated/prisma/client';
import { TaskOutbox } from '../../src/tasks/task-outbox';
import type { TestApp } from './app';

export interface ObservedChange {
  type: string;
  state?: string;
  status?: number;
  progress?: number;
  queueNum?: number;
  message?: string;
  outputResult?: string[];
  /** the task's tracking after this event (`completed` once terminal) */
  tracking?: string;
}

const UXC_STATUS: Record<string, number> = {
  queued: 100,
  running: 200,
  succeeded: 1,
  failed: 2,
  canceled: 1000,
};

/**
 * Appends one event to a task's history and its deliveries to the outbox in
 * one transaction, as the poller does when it observes a change: for tests
 * that drive the dispatcher without polling UXC.
 */
export async function recordTaskEvent(
  relay: TestApp,
  taskId: string,
  change: ObservedChange,
): Promise<{ task: Task; event: TaskEvent; deliveries: number }> {
  const outbox = relay.app.get(TaskOutbox);
  return relay.prisma.$transaction(async (tx) => {
    const before = await tx.task.update({
      where: { id: taskId },
      data: { sequence: { increment: 1 } },
    });
    const state = change.state ?? before.state ?? 'unknown';
    const status = change.status ?? UXC_STATUS[state] ?? before.status;
    const event = await tx.taskEvent.create({
      data: {
        taskId,
        sequence: before.sequence,
        type: change.type,
        state,
        status,
        previousState: before.state,
        previousStatus: before.status,
        progress: change.progress ?? before.progress,
        queueNum: change.queueNum ?? before.queueNum,
        message: change.message ?? before.message,
        outputResult: change.outputResult ?? undefined,
      },
    });
    const tracking = change.tracking ?? before.tracking;
    const task = await tx.task.update({
      where: { id: taskId },
      data: {
        state,
        status,
        progress: event.progress,
        queueNum: event.queueNum,
        message: event.message,
        tracking,
        finishedAt: tracking === 'active' ? null : new Date(),
        updatedAt: new Date(),
      },
    });
    const deliveries = await outbox.enqueueForEvent(tx, task, event);
    return { task, event, deliveries };
  });
}
