/**
 * Whether the relay is still polling a task, and if not, why: `tasks.tracking`,
 * read back by the tasks API and counted by the poller's metrics.
 */
export { FINISHED_TRACKINGS, TASK_TRACKINGS } from '../common/states';
export type { TaskTracking } from '../common/states';
