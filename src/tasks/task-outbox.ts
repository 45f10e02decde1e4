import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { DeliveryStore, NewDelivery } from '../outbox/delivery.store';
import { hostKey } from '../outbox/host-key';
import { txRunner } from '../outbox/sql';
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
  constructor(private readonly store: DeliveryStore) {}

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
    return this.enqueueForEvents(tx, [{ task, event }]);
  }

  /**
   * The deliveries of many tasks' events in two statements: one read of their
   * subscriptions, one insert of every delivery (which also wakes the lanes).
   */
  async enqueueForEvents(tx: Tx, changes: { task: Task; event: TaskEvent }[]): Promise<number> {
    const notified = changes.filter((change) => NOTIFIED_EVENT_TYPES.includes(change.event.type));
    if (notified.length === 0) return 0;
    const subscriptions = await tx.subscription.findMany({
      where: {
        taskId: { in: [...new Set(notified.map((change) => change.task.id))] },
        state: 'active',
      },
    });
    const byTask = new Map<string, Subscription[]>();
    for (const subscription of subscriptions) {
      const list = byTask.get(subscription.taskId) ?? [];
      list.push(subscription);
      byTask.set(subscription.taskId, list);
    }
    const deliveries = notified.flatMap(({ task, event }) =>
      (byTask.get(task.id) ?? [])
        .filter((subscription) => wantsEvent(subscription.events, event.type))
        .map((subscription) => this.delivery(task, event, subscription)),
    );
    return this.store.enqueue(txRunner(tx), deliveries);
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
    const sql = txRunner(tx);
    const queued = await this.store.enqueue(sql, [this.delivery(task, latest, subscription)]);
    if (created) return queued;
    const lane = { subscriptionId: subscription.id, host: hostKey(subscription.callbackUrl) };
    return queued + (await this.store.reopenCanceled(sql, lane, latest.id));
  }

  /** A canceled subscription sends nothing more: its pending deliveries are canceled. */
  async cancelPending(tx: Tx, subscriptionId: string): Promise<number> {
    return this.store.cancelPending(txRunner(tx), subscriptionId);
  }

  private delivery(task: Task, event: TaskEvent, subscription: Subscription): NewDelivery {
    return {
      id: newId('msg'),
      subscriptionId: subscription.id,
      taskId: task.id,
      eventId: event.id,
      eventType: event.type,
      sequence: event.sequence,
      payload: this.payloadFor(task, event, subscription),
      host: hostKey(subscription.callbackUrl),
    };
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
