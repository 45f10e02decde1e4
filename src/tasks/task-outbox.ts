import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { DeliveryStore, NewDelivery } from '../outbox/delivery.store';
import { FINISHED_TRACKINGS } from './task-tracking';
import { QueueEstimates } from '../estimates/queue-estimates';
import { hostKey } from '../outbox/host-key';
import { SqlRunner, txRunner } from '../outbox/sql';
import { trackTask, trackTasksSql } from './task.store';
import type { Prisma, Subscription, Task, TaskEvent } from '../generated/prisma/client';
import type { TaskState } from '../uxc/task-state';
import {
  JsonObject,
  JsonValue,
  TASK_EVENT_TYPES,
  taskEventBodies,
  TaskEventDataInput,
  TaskEventType,
} from '../webhooks/webhook-payload';

export type Tx = Prisma.TransactionClient;

/** One event's serialised webhook body for each subscriber. */
type EventBodies = (subscription: Subscriber) => string;

/** Task events that subscribers hear of; other history rows (upstream errors) are not sent. */
export const NOTIFIED_EVENT_TYPES: readonly string[] = TASK_EVENT_TYPES;

/** What a webhook body needs of its task and of its event. */
type PayloadTask = Pick<Task, 'id' | 'tenantId' | 'sid' | 'photoParameters'>;
type PayloadEvent = Omit<TaskEvent, 'taskId' | 'errNo' | 'errMsg'>;

// The latest notified event of each task, read after the caller locked the
// tasks: an event the poller committed while we waited for the lock is seen.
const LATEST_EVENTS = `
  SELECT t.id AS "taskId", t.tenant_id AS "tenantId", t.sid, t.photo_parameters AS "photoParameters",
    e.id::text AS id, e.sequence, e.type, e.state, e.status, e.previous_state AS "previousState",
    e.previous_status AS "previousStatus", e.progress, e.queue_num AS "queueNum",
    e.queue_total AS "queueTotal", e.cost_time AS "costTime", e.message,
    e.output_result AS "outputResult", e.observed_at AS "observedAt"
  FROM tasks t
  CROSS JOIN LATERAL (
    SELECT * FROM task_events
    WHERE task_id = t.id AND type = ANY ($2::text[])
    ORDER BY sequence DESC LIMIT 1
  ) e
  WHERE t.id = ANY ($1::text[])`;

/** What a delivery is built from, of its subscription. */
type Subscriber = Pick<
  Subscription,
  | 'id'
  | 'taskId'
  | 'state'
  | 'events'
  | 'metadata'
  | 'endpointId'
  | 'includePhotoParameters'
  | 'callbackUrl'
>;

// The subscriptions that hear of the tasks' new events, as Subscribers. A
// disabled endpoint keeps what happens meanwhile, held.
const SUBSCRIBERS_OF_TASKS = `
  SELECT id, task_id AS "taskId", state, events, metadata, endpoint_id AS "endpointId",
    include_photo_parameters AS "includePhotoParameters", callback_url AS "callbackUrl"
  FROM subscriptions
  WHERE task_id = ANY ($1::text[])
    AND (state = 'active' OR (state = 'disabled' AND endpoint_id IS NOT NULL))`;

type LatestEventRow = Omit<PayloadEvent, 'id'> & {
  id: string;
  taskId: string;
  tenantId: string;
  sid: string;
  photoParameters: Task['photoParameters'];
};

export function wantsEvent(filter: readonly string[], type: string): boolean {
  return filter.length === 0 || filter.includes(type);
}

// POST /v1/tasks for many sids at once: each task is tracked (as `track`
// does) and marked as tracked for the tenant's endpoints; metadata given
// replaces the task's. `tracked_before` tells a first sight (201) from a repeat.
const TRACK_FOR_ENDPOINTS = `
  WITH input AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) AS i(sid, task_id, metadata)
  ),
  prior AS (
    SELECT t.sid, t.tracked_at FROM tasks t
    WHERE t.tenant_id = $1 AND t.sid = ANY ($2::text[])
  ),
  tracked AS (${trackTasksSql(
    `SELECT task_id AS id, $1::text AS tenant_id, sid, metadata::jsonb AS metadata FROM input`,
    'id, sid, sequence, metadata',
    { forEndpoints: true },
  )}
  )
  SELECT t.id, t.sid, t.sequence, t.metadata, p.tracked_at AS "trackedBefore"
  FROM tracked t LEFT JOIN prior p ON p.sid = t.sid`;

/** A task as POST /v1/tasks left it. */
export interface TrackedTask {
  id: string;
  sid: string;
  sequence: number;
  metadata: JsonObject | null;
  /** when it was first tracked for endpoints; null when this call did it */
  trackedBefore: Date | null;
}

/**
 * Where task history meets the outbox: the poller appends an event and, in the
 * same transaction, one delivery per interested subscription; the dispatcher
 * only ever reads the deliveries table.
 */
@Injectable()
export class TaskOutbox {
  constructor(
    private readonly store: DeliveryStore,
    private readonly estimates: QueueEstimates,
  ) {}

  /**
   * Makes `(tenant, sid)` known to the poller, or wakes it up again: a task
   * that stopped being polled for want of subscribers, or that expired or gave
   * up on errors, is polled again at once. A completed task stays completed.
   */
  async track(tx: Tx, tenantId: string, sid: string): Promise<Task> {
    return trackTask(tx, newId('task'), tenantId, sid);
  }

  /**
   * Tracks sids for the tenant's endpoints (`POST /v1/tasks`): polled from
   * now on whether or not any subscription waits on them. Sids must not repeat.
   */
  async trackForEndpoints(
    sql: SqlRunner,
    tenantId: string,
    items: { sid: string; metadata?: Record<string, unknown> }[],
  ): Promise<TrackedTask[]> {
    if (items.length === 0) return [];
    return sql.rows<TrackedTask>({
      name: 'outbox.track-for-endpoints',
      text: TRACK_FOR_ENDPOINTS,
      values: [
        tenantId,
        items.map((item) => item.sid),
        items.map(() => newId('task')),
        items.map((item) => (item.metadata !== undefined ? JSON.stringify(item.metadata) : null)),
      ],
    });
  }

  /**
   * The deliveries of many tasks' events in two statements: one read of their
   * subscriptions, one insert of every delivery (which also wakes the lanes).
   * Returns how many deliveries each event got.
   */
  async enqueueForEvents(
    sql: SqlRunner,
    changes: { task: Task; event: TaskEvent }[],
  ): Promise<number[]> {
    const notified = changes.filter((change) => NOTIFIED_EVENT_TYPES.includes(change.event.type));
    if (notified.length === 0) return changes.map(() => 0);
    const subscriptions = await sql.rows<Subscriber>({
      name: 'outbox.subscribers-of-tasks',
      text: SUBSCRIBERS_OF_TASKS,
      values: [[...new Set(notified.map((change) => change.task.id))]],
    });
    const byTask = new Map<string, Subscriber[]>();
    for (const subscription of subscriptions) {
      const list = byTask.get(subscription.taskId) ?? [];
      list.push(subscription);
      byTask.set(subscription.taskId, list);
    }
    const perEvent = changes.map(({ task, event }) => {
      if (!NOTIFIED_EVENT_TYPES.includes(event.type)) return [];
      const wanting = (byTask.get(task.id) ?? []).filter((subscription) =>
        wantsEvent(subscription.events, event.type),
      );
      if (wanting.length === 0) return [];
      const bodies = this.bodiesOf(task, event);
      return wanting.map((subscription) => this.delivery(task, event, subscription, bodies));
    });
    await this.store.enqueue(sql, perEvent.flat());
    const finished = changes
      .filter(({ task }) => FINISHED_TRACKINGS.includes(task.tracking))
      .map(({ task }) => task.id);
    await this.store.finishIdleSubscriptions(sql, finished);
    return perEvent.map((deliveries) => deliveries.length);
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
    const queued = await this.store.enqueue(sql, [
      this.delivery(task, latest, subscription, this.bodiesOf(task, latest)),
    ]);
    if (created) return queued;
    const lane = { subscriptionId: subscription.id, host: hostKey(subscription.callbackUrl) };
    return queued + (await this.store.reopenCanceled(sql, lane, latest.id));
  }

  /**
   * enqueueCurrentState for many subscribers at once, on a plain SQL runner
   * (the registration's pg transaction, which already holds their tasks'
   * locks): one read of the tasks' latest events, one insert of the
   * deliveries, and for a revived subscriber its canceled delivery reopened.
   */
  async enqueueCurrentStates(
    sql: SqlRunner,
    subscribers: { subscription: Subscription; created: boolean }[],
  ): Promise<number> {
    subscribers = subscribers.filter(({ subscription }) => subscription.state === 'active');
    if (subscribers.length === 0) return 0;
    const rows = await sql.rows<LatestEventRow>({
      name: 'outbox.latest-events',
      text: LATEST_EVENTS,
      values: [[...new Set(subscribers.map((s) => s.subscription.taskId))], NOTIFIED_EVENT_TYPES],
    });
    const latest = new Map(rows.map((row) => [row.taskId, row]));
    const due = subscribers.flatMap(({ subscription, created }) => {
      const row = latest.get(subscription.taskId);
      if (!row || !wantsEvent(subscription.events, row.type)) return [];
      const task: PayloadTask = {
        id: row.taskId,
        tenantId: row.tenantId,
        sid: row.sid,
        photoParameters: row.photoParameters,
      };
      const event: PayloadEvent = { ...row, id: BigInt(row.id) };
      const delivery = this.delivery(task, event, subscription, this.bodiesOf(task, event));
      return [{ subscription, created, delivery }];
    });
    let queued = await this.store.enqueue(
      sql,
      due.map((d) => d.delivery),
    );
    for (const { subscription, created, delivery } of due) {
      if (created) continue;
      const lane = { subscriptionId: subscription.id, host: delivery.host };
      queued += await this.store.reopenCanceled(sql, lane, delivery.eventId);
    }
    return queued;
  }

  /** Re-enabled subscriptions (or an endpoint's rows) send what was held for them, in order. */
  async releaseHeld(sql: SqlRunner, subscriptions: Subscription[]): Promise<number> {
    return this.store.releaseHeld(
      sql,
      subscriptions.map((subscription) => ({
        subscriptionId: subscription.id,
        host: hostKey(subscription.callbackUrl),
      })),
    );
  }

  /** Subscriptions (or an endpoint's rows) disabled by hand hold what they had still to send. */
  async holdPending(sql: SqlRunner, subscriptionIds: string[]): Promise<number> {
    return this.store.holdPending(sql, subscriptionIds);
  }

  /** A canceled subscription sends nothing more: its pending deliveries are canceled. */
  async cancelPending(tx: Tx, subscriptionId: string): Promise<number> {
    return this.store.cancelPending(txRunner(tx), subscriptionId);
  }

  private delivery(
    task: PayloadTask,
    event: PayloadEvent,
    subscription: Subscriber,
    bodies: EventBodies,
  ): NewDelivery {
    return {
      id: newId('msg'),
      subscriptionId: subscription.id,
      taskId: task.id,
      eventId: event.id,
      eventType: event.type,
      sequence: event.sequence,
      payload: bodies(subscription),
      host: hostKey(subscription.callbackUrl),
      held: subscription.state === 'disabled',
    };
  }

  /** The event's webhook bodies, one per subscriber, its shared part serialised once. */
  private bodiesOf(task: PayloadTask, event: PayloadEvent): EventBodies {
    // the body is built once, here, and stored: its estimate is the one of the
    // moment the event was observed, from the statistics this process has cached
    const estimate = this.estimates.estimate(
      task.tenantId,
      { state: event.state, queueNum: event.queueNum, positionSince: event.observedAt },
      event.observedAt,
    );
    const bodyFor = taskEventBodies({ ...taskEventDataInput(task.sid, event), estimate });
    const photoParameters = (task.photoParameters as JsonValue | null) ?? null;
    return (subscription) =>
      bodyFor(
        // a row that carries an endpoint's deliveries speaks for the endpoint
        subscription.endpointId !== null
          ? {
              endpointId: subscription.endpointId,
              metadata: subscription.metadata as JsonObject,
              includePhotoParameters: subscription.includePhotoParameters,
              photoParameters,
            }
          : {
              subscriptionId: subscription.id,
              metadata: subscription.metadata as JsonObject,
              includePhotoParameters: subscription.includePhotoParameters,
              photoParameters,
            },
      );
  }
}

/**
 * A history row as the payload builder takes it: what a webhook of this event
 * says of the task, whoever receives it (a subscription, an event stream).
 */
export function taskEventDataInput(
  sid: string,
  event: Omit<PayloadEvent, 'id'>,
): TaskEventDataInput {
  return {
    type: event.type as TaskEventType,
    observedAt: event.observedAt,
    sid,
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
  };
}
