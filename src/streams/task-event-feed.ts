import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DatabaseConnection } from '../database/database-connection';
import { DatabasePool } from '../database/database-pool';
import { PgListener } from '../database/pg-listener';
import type { TaskEvent } from '../generated/prisma/client';
import { EventIdRange, parseEventIdRange, TASK_EVENT_CHANNEL } from '../tasks/task-event-channel';

/** A history row with what routing it needs: whose task it is. */
export type FeedEvent = TaskEvent & { tenantId: string; sid: string };

export interface FeedSubscriber {
  /** A committed history row of a task (or tenant) subscribed to, of any type; may repeat. */
  onEvent(event: FeedEvent): void;
  /**
   * Notifications may have been missed (the listening connection was lost, or
   * reading rows back failed): read what is new from the history itself.
   */
  onGap(): void;
}

export const FEED_EVENT_COLUMNS = `
  e.id, e.task_id AS "taskId", e.sequence, e.type, e.state, e.status,
  e.previous_state AS "previousState", e.previous_status AS "previousStatus", e.progress,
  e.queue_num AS "queueNum", e.queue_total AS "queueTotal", e.cost_time AS "costTime",
  e.message, e.output_result AS "outputResult", e.err_no AS "errNo", e.err_msg AS "errMsg",
  e.observed_at AS "observedAt", t.tenant_id AS "tenantId", t.sid`;

// only the rows someone here listens for: of the tasks, or of the tenants, subscribed to
const ANNOUNCED_EVENTS = `
  SELECT ${FEED_EVENT_COLUMNS}
  FROM task_events e JOIN tasks t ON t.id = e.task_id
  WHERE e.id BETWEEN $1 AND $2 AND (e.task_id = ANY ($3::text[]) OR t.tenant_id = ANY ($4::text[]))
  ORDER BY e.id`;

/**
 * The one LISTEN connection of the process for task history, fanned out to
 * every stream and long poll open here. Each notification names a span of
 * row ids; the rows are read back once, and only when someone here wants
 * them, then handed to the subscribers of their task and of their tenant.
 */
@Injectable()
export class TaskEventFeed implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TaskEventFeed.name);
  private readonly listener: PgListener;
  private readonly byTask = new Map<string, Set<FeedSubscriber>>();
  private readonly byTenant = new Map<string, Set<FeedSubscriber>>();
  /** notifications are read back one after the other, so rows reach subscribers in commit order */
  private reading: Promise<void> = Promise.resolve();

  constructor(
    connection: DatabaseConnection,
    private readonly database: DatabasePool,
  ) {
    this.listener = new PgListener(
      connection.url,
      TASK_EVENT_CHANNEL,
      (payload) => this.announced(payload),
      () => this.gap(),
    );
  }

  onModuleInit(): void {
    this.listener.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener.stop();
    await this.reading;
  }

  /** Subscribes to one task's rows; call the answer to unsubscribe. */
  subscribeTask(taskId: string, subscriber: FeedSubscriber): () => void {
    return this.add(this.byTask, taskId, subscriber);
  }

  /** Subscribes to the rows of every task of a tenant; call the answer to unsubscribe. */
  subscribeTenant(tenantId: string, subscriber: FeedSubscriber): () => void {
    return this.add(this.byTenant, tenantId, subscriber);
  }

  /** How many streams and long polls are listening here: for tests and metrics. */
  get subscriberCount(): number {
    let count = 0;
    for (const set of [...this.byTask.values(), ...this.byTenant.values()]) count += set.size;
    return count;
  }

  private add(
    index: Map<string, Set<FeedSubscriber>>,
    key: string,
    subscriber: FeedSubscriber,
  ): () => void {
    const set = index.get(key) ?? new Set();
    set.add(subscriber);
    index.set(key, set);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && index.get(key) === set) index.delete(key);
    };
  }

  private announced(payload: string): void {
    const range = parseEventIdRange(payload);
    if (!range) return;
    if (this.byTask.size === 0 && this.byTenant.size === 0) return;
    this.reading = this.reading.then(() => this.readBack(range));
  }

  private async readBack(range: EventIdRange): Promise<void> {
    const tasks = [...this.byTask.keys()];
    const tenants = [...this.byTenant.keys()];
    if (tasks.length === 0 && tenants.length === 0) return;
    let rows: FeedEvent[];
    try {
      ({ rows } = await this.database.pool.query<FeedEvent>({
        name: 'streams.announced-events',
        text: ANNOUNCED_EVENTS,
        values: [range.from.toString(), range.to.toString(), tasks, tenants],
      }));
    } catch (error) {
      this.logger.warn(`could not read announced task events: ${(error as Error).message}`);
      this.gap();
      return;
    }
    for (const row of rows) {
      const event = { ...row, id: BigInt(row.id) };
      for (const subscriber of [
        ...(this.byTask.get(event.taskId) ?? []),
        ...(this.byTenant.get(event.tenantId) ?? []),
      ]) {
        subscriber.onEvent(event);
      }
    }
  }

  private gap(): void {
    for (const set of [...this.byTask.values(), ...this.byTenant.values()]) {
      for (const subscriber of set) subscriber.onGap();
    }
  }
}
