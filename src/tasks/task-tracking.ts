/**
 * Whether the relay is still polling a task, and if not, why: `tasks.tracking`,
 * read back by the tasks API and counted by the poller's metrics.
 */
export const TASK_TRACKINGS = ['active', 'completed', 'expired', 'error', 'idle'] as const;

/** Trackings in which a task is no longer polled and will not be again unless tracked anew. */
export const FINISHED_TRACKINGS: readonly string[] = ['completed', 'expired', 'error'];
