/**
 * Whether the relay is still polling a task, and if not, why: `tasks.tracking`,
 * read back by the tasks API and counted by the poller's metrics.
 */
export const TASK_TRACKINGS = ['active', 'completed', 'expired', 'error', 'idle'] as const;
