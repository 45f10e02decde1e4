import type { QueueEstimates } from '../estimates/queue-estimates';
import { NOTIFIED_EVENT_TYPES, taskEventDataInput } from '../tasks/task-outbox';
import { buildTaskEventFields, TaskEventFields } from '../webhooks/webhook-payload';
import type { FeedEvent } from './task-event-feed';

/** A task's stream ends after one of these: nothing follows them. */
export const FINAL_EVENT_TYPES: readonly string[] = [
  'task.succeeded',
  'task.failed',
  'task.canceled',
  'task.expired',
  'task.error',
];

/** Trackings under which no event will follow. */
export { FINISHED_TRACKINGS } from '../tasks/task-tracking';

/** History rows that streams carry: the notified ones, not upstream-error rows. */
export function isStreamed(event: Pick<FeedEvent, 'type'>): boolean {
  return NOTIFIED_EVENT_TYPES.includes(event.type);
}

/** Builds a streamed event's `data`. */
export type StreamEventData = (event: FeedEvent) => TaskEventFields;

/**
 * An event's `data`: the webhook body's, built by the same code (with the
 * estimate as of the event, as a webhook body has it), less what belongs to a
 * subscription (`subscriptionId`, `metadata`, `photoParameters`).
 */
export function streamEventData(estimates: QueueEstimates): StreamEventData {
  return (event) =>
    buildTaskEventFields({
      ...taskEventDataInput(event.sid, event),
      estimate: estimates.estimate(
        event.tenantId,
        { state: event.state, queueNum: event.queueNum, positionSince: event.observedAt },
        event.observedAt,
      ),
    });
}
