import { Logger } from '@nestjs/common';
import { DatabasePool } from '../database/database-pool';
import { NOTIFIED_EVENT_TYPES } from '../tasks/task-outbox';
import { SseConnection, StreamSteps } from './sse';
import { FINAL_EVENT_TYPES, isStreamed, StreamEventData } from './stream-events';
import { FEED_EVENT_COLUMNS, FeedEvent, FeedSubscriber } from './task-event-feed';

const PAGE = 500;

const EVENTS_AFTER = `
  SELECT ${FEED_EVENT_COLUMNS}
  FROM task_events e JOIN tasks t ON t.id = e.task_id
  WHERE e.task_id = $1 AND e.sequence > $2
  ORDER BY e.sequence LIMIT ${PAGE}`;

// the task's sequence and its latest notified event, read in one snapshot
const CURRENT_STATE = `
  SELECT t.sequence AS position, e.*
  FROM tasks t
  LEFT JOIN LATERAL (
    SELECT ${FEED_EVENT_COLUMNS}
    FROM task_events e
    WHERE e.task_id = t.id AND e.type = ANY ($2::text[])
    ORDER BY e.sequence DESC LIMIT 1
  ) e ON true
  WHERE t.id = $1`;

/**
 * One client's stream of one task. Subscribed to the feed before it reads
 * history, it holds back live rows until the history is sent, then lets
 * through only rows past the last sequence accounted for: nothing is missed
 * between resume and live, and nothing is sent twice. A task's sequence has
 * no holes (upstream-error rows take one too, though they are not streamed),
 * so a live row beyond the next sequence means notifications were missed,
 * and the history is read again from there.
 */
export class TaskStream implements FeedSubscriber {
  private readonly logger = new Logger(TaskStream.name);
  /** the highest sequence sent or skipped */
  private position = 0;
  private started = false;
  private held: FeedEvent[] = [];
  private readonly steps: StreamSteps;

  constructor(
    private readonly database: DatabasePool,
    private readonly taskId: string,
    private readonly sse: SseConnection,
    private readonly eventData: StreamEventData,
  ) {
    this.steps = new StreamSteps(sse, this.logger, 'task stream');
  }

  /**
   * Sends the current state (the latest notified event), or every streamed
   * event after `lastEventId`; then whatever arrived meanwhile. Ends the stream
   * at once when the task is finished and nothing is left to send.
   */
  start(lastEventId: number | undefined, finished: boolean): void {
    this.steps.run(async () => {
      if (lastEventId === undefined) await this.sendCurrentState();
      else {
        this.position = lastEventId;
        await this.catchUp();
      }
      if (finished) this.sse.end();
      this.started = true;
      const held = this.held;
      this.held = [];
      await this.take(held);
    });
  }

  onEvent(event: FeedEvent): void {
    if (!this.started) this.held.push(event);
    else this.steps.run(() => this.take([event]));
  }

  onGap(): void {
    if (this.started) this.steps.run(() => this.catchUp());
  }

  private async take(events: FeedEvent[]): Promise<void> {
    for (const event of [...events].sort((a, b) => a.sequence - b.sequence)) {
      if (event.sequence <= this.position) continue;
      if (event.sequence > this.position + 1) return this.catchUp();
      this.emit(event);
    }
  }

  private async sendCurrentState(): Promise<void> {
    const { rows } = await this.database.pool.query<FeedEvent & { position: number }>({
      name: 'streams.current-state',
      text: CURRENT_STATE,
      values: [this.taskId, NOTIFIED_EVENT_TYPES],
    });
    const row = rows[0];
    if (!row) return;
    if (row.id !== null) this.emit({ ...row, id: BigInt(row.id) });
    this.position = Math.max(this.position, row.position);
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const { rows } = await this.database.pool.query<FeedEvent>({
        name: 'streams.task-events-after',
        text: EVENTS_AFTER,
        values: [this.taskId, this.position],
      });
      for (const row of rows) this.emit({ ...row, id: BigInt(row.id) });
      if (rows.length < PAGE || !this.sse.open) return;
    }
  }

  private emit(event: FeedEvent): void {
    this.position = event.sequence;
    if (!isStreamed(event) || !this.sse.open) return;
    this.sse.send(String(event.sequence), event.type, this.eventData(event));
    if (FINAL_EVENT_TYPES.includes(event.type)) this.sse.end();
  }
}
