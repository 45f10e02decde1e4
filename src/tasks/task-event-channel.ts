/**
 * The NOTIFY channel on which every append to task history is announced, so
 * that event streams and long polls on any relay process hear of events that
 * another process polled.
 */
export const TASK_EVENT_CHANNEL = 'uxc_relay_task_events';

/** The `task_events` ids a notification announces: every committed row from `from` to `to`. */
export interface EventIdRange {
  from: bigint;
  to: bigint;
}

/**
 * One notification per appended batch, carrying only the span of its row ids
 * (`"<first>-<last>"`, written by the history write's statement in
 * task-history.ts): a NOTIFY payload is capped at 8000 bytes, and the rows
 * themselves are read back by those who listen. Rows of other batches that
 * fall inside the span are read too; listeners drop what they have seen.
 */
export function parseEventIdRange(payload: string): EventIdRange | undefined {
  const match = /^(\d{1,19})-(\d{1,19})$/.exec(payload);
  if (!match) return undefined;
  const range = { from: BigInt(match[1]), to: BigInt(match[2]) };
  return range.from <= range.to ? range : undefined;
}
