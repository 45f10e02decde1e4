import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { TASK_TRACKINGS } from '../tasks/task-tracking';

/** How a poll of one claimed task ended. */
export type PollOutcome =
  | 'changed'
  | 'unchanged'
  | 'completed'
  | 'upstream-error'
  | 'transport-error'
  | 'gave-up'
  | 'expired'
  | 'idle'
  | 'lease-lost'
  | 'failed';

/**
 * The poller's Prometheus metrics. Rate-limit waits are the UXC client's
 * (`uxc_relay_uxc_rate_limit_*`), not repeated here.
 */
export class PollerMetrics {
  readonly polls: Counter<'outcome'>;
  readonly lag: Histogram<never>;
  readonly tasks: Gauge<'tracking'>;
  readonly inFlight: Gauge<never>;
  readonly purged: Counter<never>;

  constructor(metrics: MetricsService) {
    this.polls = metrics.counter(
      'uxc_relay_poller_polls_total',
      'Polls of claimed tasks by outcome (changed, unchanged, completed, upstream-error, transport-error, gave-up, expired, idle, lease-lost, failed)',
      ['outcome'],
    );
    this.lag = metrics.histogram(
      'uxc_relay_poller_poll_lag_seconds',
      'How late a due task was claimed: claim time minus its next_poll_at',
      [],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    );
    this.tasks = metrics.gauge(
      'uxc_relay_poller_tasks',
      'Tasks by tracking state (active, completed, expired, error, idle), refreshed periodically',
      ['tracking'],
    );
    this.inFlight = metrics.gauge(
      'uxc_relay_poller_in_flight',
      'Polls this process is running now',
    );
    this.purged = metrics.counter(
      'uxc_relay_poller_purged_tasks_total',
      'Finished tasks deleted with their history after HISTORY_RETENTION',
    );
  }

  setTaskCounts(counts: { tracking: string; count: number }[]): void {
    for (const tracking of TASK_TRACKINGS) this.tasks.set({ tracking }, 0);
    for (const row of counts) this.tasks.set({ tracking: row.tracking }, row.count);
  }
}
