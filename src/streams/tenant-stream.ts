import { Logger } from '@nestjs/common';
import { DatabasePool } from '../database/database-pool';
import { NOTIFIED_EVENT_TYPES } from '../tasks/task-outbox';
import { SseConnection, StreamSteps } from './sse';
import { isStreamed, StreamEventData } from './stream-events';
import { FEED_EVENT_COLUMNS, FeedEvent, FeedSubscriber } from './task-event-feed';

const PAGE = 500;

const TENANT_EVENTS_AFTER = `
  SELECT ${FEED_EVENT_COLUMNS}
  FROM task_events e JOIN tasks t ON t.id = e.task_id
  WHERE t.tenant_id = $1 AND e.id > $2 AND e.type = ANY ($3::text[])
  ORDER BY e.id LIMIT ${PAGE}`;

const LAST_EVENT_ID = `SELECT coalesce(max(id), 0)::text AS id FROM task_events`;

/**
 * One client's stream of every task of a tenant. An event's SSE id is its
 * history row id (`task_events.id`), unique across tasks and increasing, so
 * `Last-Event-ID` resumes after it. Rows are sent once each: per task, only
 * a sequence past the last one sent goes out, whichever way it arrived
 * (history read on resume or after a lost notification, or live).
 */
export class TenantStream implements FeedSubscriber {
  private readonly logger = new Logger(TenantStream.name);
  /** the highest row id read or sent: where a catch-up reads from */
  private cursor = 0n;
  /** per task, the last sequence sent */
  private readonly sent = new Map<string, number>();
  private started = false;
  private held: FeedEvent[] = [];
  private readonly steps: StreamSteps;

  constructor(
    private readonly database: DatabasePool,
    private readonly tenantId: string,
    private readonly sse: SseConnection,
    private readonly eventData: StreamEventData,
  ) {
    this.steps = new StreamSteps(sse, this.logger, 'tenant stream');
  }

  /** Live from now on; with `lastEventId`, every event after that row first. */
  start(lastEventId: bigint | undefined): void {
    this.steps.run(async () => {
      if (lastEventId === undefined) {
        const { rows } = await this.database.pool.query<{ id: string }>(LAST_EVENT_ID);
        this.cursor = BigInt(rows[0].id);
      } else {
        this.cursor = lastEventId;
        await this.catchUp();
      }
      this.started = true;
      const held = this.held;
      this.held = [];
      for (const event of held) this.emit(event);
    });
  }

  onEvent(event: FeedEvent): void {
    if (!this.started) this.held.push(event);
    else this.steps.run(async () => this.emit(event));
  }

  onGap(): void {
    if (this.started) this.steps.run(() => this.catchUp());
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const { rows } = await this.database.pool.query<FeedEvent>({
        name: 'streams.tenant-events-after',
        text: TENANT_EVENTS_AFTER,
        values: [this.tenantId, this.cursor.toString(), NOTIFIED_EVENT_TYPES],
      });
      for (const row of rows) this.emit({ ...row, id: BigInt(row.id) });
      if (rows.length < PAGE || !this.sse.open) return;
    }
  }

  private emit(event: FeedEvent): void {
    if (event.id > this.cursor) this.cursor = event.id;
    if (!isStreamed(event) || !this.sse.open) return;
    if ((this.sent.get(event.taskId) ?? 0) >= event.sequence) return;
    this.sent.set(event.taskId, event.sequence);
    this.sse.send(event.id.toString(), event.type, this.eventData(event));
  }
}
