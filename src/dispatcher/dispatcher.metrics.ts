import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

/** The dispatcher's Prometheus metrics, registered once per application. */
@Injectable()
export class DispatcherMetrics {
  /** succeeded, retry, failed, gone, superseded, lease-lost */
  readonly outcomes: Counter<'outcome'>;
  readonly attemptDuration: Histogram<'result'>;
  readonly endToEnd: Histogram<never>;
  readonly pending: Gauge<never>;
  readonly oldestPendingAge: Gauge<never>;
  readonly inFlight: Gauge<never>;
  /** notify, discover, timer */
  readonly wakeups: Counter<'source'>;

  constructor(metrics: MetricsService) {
    this.outcomes = metrics.counter(
      'uxc_relay_webhook_deliveries_total',
      'Webhook deliveries by what became of them after an attempt (succeeded, retry, failed, gone, superseded, lease-lost)',
      ['outcome'],
    );
    this.attemptDuration = metrics.histogram(
      'uxc_relay_webhook_attempt_duration_seconds',
      'Time of one webhook request, by result (2xx, 3xx, 4xx, 5xx, error)',
      ['result'],
    );
    this.endToEnd = metrics.histogram(
      'uxc_relay_webhook_end_to_end_seconds',
      'Time from observing a task event to the receiver answering 2xx for it',
      [],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400],
    );
    this.pending = metrics.gauge(
      'uxc_relay_webhook_pending_deliveries',
      'Deliveries waiting to be sent or retried',
    );
    this.oldestPendingAge = metrics.gauge(
      'uxc_relay_webhook_oldest_pending_age_seconds',
      'Age of the oldest pending delivery (0 when none is pending)',
    );
    this.inFlight = metrics.gauge(
      'uxc_relay_webhook_in_flight',
      'Webhook requests this process is sending now',
    );
    this.wakeups = metrics.counter(
      'uxc_relay_dispatcher_wakeups_total',
      'Times the dispatcher went looking for work, by what told it to (notify, discover, timer)',
      ['source'],
    );
  }
}

export function resultClass(statusCode: number | null): string {
  return statusCode === null ? 'error' : `${Math.floor(statusCode / 100)}xx`;
}
