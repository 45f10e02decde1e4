import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import type { Prisma, Subscription, Task, TaskEvent } from '../generated/prisma/client';
import type { TaskState } from '../uxc/task-state';
import {
  buildWebhookPayload,
  JsonObject,
  JsonValue,
  serializeWebhookPayload,
  TASK_EVENT_TYPES,
  TaskEventType,
} from '../webhooks/webhook-payload';

export type Tx = Prisma.TransactionClient;

/** Task events that subscribers hear of; other history rows (upstream errors) are not sent. */
export const NOTIFIED_EVENT_TYPES: readonly string[] = TASK_EVENT_TYPES;

export function wantsEvent(filter: readonly string[], type: string): boolean {
  return filter.length === 0 || filter.includes(type);
}

/**
 * Where task history meets the outbox: the poller appends an event and, in the
 * same transaction, one delivery per interested subscription; the dispatcher
 * only ever reads the deliveries table.
 */
@Injectable()
export class TaskOutbox {
  /**
   * Makes `(tenant, sid)` known to the poller, or wakes it up again: a task
   * that stopped being polled for want of subscribers, or that expired or gave
   * up on errors, is polled again at once. A completed task stays completed.
   */
  async track(tx: Tx, tenantId: string, sid: string): Promise<Task> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO tasks (id, tenant_id, sid, tracking, next_poll_at, tracking_since, first_seen_at, updated_at)
      VALUES (${newId('task')}, ${tenantId}, ${sid}, 'active', now(), now(), now(), now())
      ON CONFLICT (tenant_id, sid) DO UPDATE SET
        tracking = CASE WHEN tasks.tracking = 'completed' THEN 'completed' ELSE 'active' END,
        tracking_since = CASE WHEN tasks.tracking IN ('expired', 'error') THEN now() ELSE tasks.tracking_since END,
        error_since = CASE WHEN tasks.tracking IN ('expired', 'error') THEN NULL ELSE tasks.error_since END,
        consecutive_errors = CASE WHEN tasks.tracking IN ('expired', 'error') THEN 0 ELSE tasks.consecutive_errors END,
        next_poll_at = CASE WHEN tasks.tracking IN ('idle', 'expired', 'error') THEN now() ELSE tasks.next_poll_at END
      RETURNING id`;
    return tx.task.findUniqueOrThrow({ where: { id: rows[0].id } });
  }

  /** One delivery of `event` for each active subscription of its task that wants it. */
  async enqueueForEvent(tx: Tx, task: Task, event: TaskEvent): Promise<number> {
    if (!NOTIFIED_EVENT_TYPES.includes(event.type)) return 0;
    const subscriptions = await tx.subscription.findMany({
      where: { taskId: task.id, state: 'active' },
    });
    return this.enqueue(
      tx,
      task,
      event,
      subscriptions.filter((subscription) => wantsEvent(subscription.events, event.type)),
    );
  }

  /**
   * A new subscriber hears of the task's current state at once, from history,
   * without asking UXC: the latest notified event, when its filter wants it.
   * A revived one (`created: false`) hears of it too, even if that delivery
   * was canceled with it: the outbox does not insert it twice, so it goes back
   * to pending.
   */
  async enqueueCurrentState(
    tx: Tx,
    task: Task,
    subscription: Subscription,
    { created }: { created: boolean },
  ): Promise<number> {
    const latest = await tx.taskEvent.findFirst({
      where: { taskId: task.id, type: { in: [...NOTIFIED_EVENT_TYPES] } },
      orderBy: { sequence: 'desc' },
    });
    if (!latest || !wantsEvent(subscription.events, latest.type)) return 0;
    // a subscription created in this transaction has no deliveries to supersede or reopen
    const queued = await this.enqueue(tx, task, latest, [subscription], { supersede: !created });
    if (created) return queued;
    const now = new Date();
    const reopened = await tx.delivery.updateMany({
      where: { subscriptionId: subscription.id, eventId: latest.id, state: 'canceled' },
      data: { state: 'pending', nextAttemptAt: now, completedAt: null, updatedAt: now },
    });
    return queued + reopened.count;
  }

  private async enqueue(
    tx: Tx,
    task: Task,
    event: TaskEvent,
    subscriptions: Subscription[],
    { supersede }: { supersede: boolean } = { supersede: true },
  ): Promise<number> {
    if (subscriptions.length === 0) return 0;
    const ids = subscriptions.map((subscription) => subscription.id);
    // a receiver back from an outage wants the latest state, not a backlog of
    // progress; state changes are never superseded, and one in flight is left alone
    if (supersede) {
      await tx.delivery.updateMany({
        where: {
          subscriptionId: { in: ids },
          state: 'pending',
          eventType: 'task.progress',
          sequence: { lt: event.sequence },
          OR: [{ lockedUntil: null }, { lockedUntil: { lt: new Date() } }],
        },
        data: { state: 'superseded', completedAt: new Date(), updatedAt: new Date() },
      });
    }
    const result = await tx.delivery.createMany({
      data: subscriptions.map((subscription) => ({
        id: newId('msg'),
        subscriptionId: subscription.id,
        taskId: task.id,
        eventId: event.id,
        eventType: event.type,
        sequence: event.sequence,
        payload: this.payloadFor(task, event, subscription),
      })),
      skipDuplicates: true,
    });
    return result.count;
  }

  private payloadFor(task: Task, event: TaskEvent, subscription: Subscription): string {
    return serializeWebhookPayload(
      buildWebhookPayload({
        type: event.type as TaskEventType,
        observedAt: event.observedAt,
        subscriptionId: subscription.id,
        sid: task.sid,
        sequence: event.sequence,
        state: (event.state ?? 'unknown') as TaskState,
        previousState: (event.previousState as TaskState | null) ?? null,
        status: event.status,
        previousStatus: event.previousStatus,
        progress: event.progress,
        queueNum: event.queueNum,
        queueTotal: event.queueTotal,
        costTime: event.costTime,
        message: event.message,
        outputResult: (event.outputResult as JsonValue | null) ?? null,
        metadata: subscription.metadata as JsonObject,
        includePhotoParameters: subscription.includePhotoParameters,
        photoParameters: (task.photoParameters as JsonValue | null) ?? null,
      }),
    );
  }
}
