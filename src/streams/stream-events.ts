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
export const FINISHED_TRACKINGS: readonly string[] = ['completed', 'expired', 'error'];

/** History rows that streams carry: the notified ones, not upstream-error rows. */
export function isStreamed(event: Pick<FeedEvent, 'type'>): boolean {
  return NOTIFIED_EVENT_TYPES.includes(event.type);
}

/**
 * An event's `data`: the webhook body's, built by the same code, less what
 * belongs to a subscription (`subscriptionId`, `metadata`, `photoParameters`).
 */
export function streamEventData(event: FeedEvent): TaskEventFields {
  return buildTaskEventFields(taskEventDataInput(event.sid, event));
}
