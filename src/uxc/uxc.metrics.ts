import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { UxcOutcome } from './uxc-outcome';

type RequestLabels = 'outcome' | 'reason' | 'err_no' | 'credential';

const created = new WeakMap<MetricsService, UxcMetrics>();

/**
 * The client's Prometheus metrics. prom-client refuses a name registered twice
 * in one registry, so the metrics are created once per `MetricsService` (one
 * per application instance) and shared by every client built on it: get them
 * with `UxcMetrics.for(metricsService)`.
 */
export class UxcMetrics {
  readonly requests: Counter<RequestLabels>;
  readonly latency: Histogram<'outcome'>;
  readonly rateLimitWait: Histogram<never>;
  readonly rateLimited: Counter<never>;
  readonly rateLimitWaiting: Gauge<never>;

  static for(metrics: MetricsService): UxcMetrics {
    let instance = created.get(metrics);
    if (!instance) {
      instance = new UxcMetrics(metrics);
      created.set(metrics, instance);
    }
    return instance;
  }

  private constructor(metrics: MetricsService) {
    this.requests = metrics.counter(
      'uxc_relay_uxc_requests_total',
      'UXC task/get calls by outcome (ok, upstream-error, transport-error), transport reason, errNo and credential (its ak)',
      // `credential` is the UXC access key (ak), not the tenant name: the ak is what UXC
      // answers for and what the rate limit keys on, it is not a secret (the sk is, and
      // never becomes a label), and tenants sharing one ak share its error rate. Its
      // values are bounded by the credentials of the tenants, like the rate limiter's keys.
      ['outcome', 'reason', 'err_no', 'credential'],
    );
    this.latency = metrics.histogram(
      'uxc_relay_uxc_request_duration_seconds',
      'Time from sending a UXC call to its outcome, rate-limit wait excluded',
      ['outcome'],
    );
    this.rateLimitWait = metrics.histogram(
      'uxc_relay_uxc_rate_limit_wait_seconds',
      'Time a UXC call waited for its credential token (0 when one was free)',
      [],
      [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.rateLimited = metrics.counter(
      'uxc_relay_uxc_rate_limited_total',
      'UXC calls that had to wait for a token because their credential was at UXC_RATE_LIMIT',
    );
    this.rateLimitWaiting = metrics.gauge(
      'uxc_relay_uxc_rate_limit_waiting',
      'UXC calls currently waiting for a token',
    );
  }

  /** `ak`: the credential the call went out with. */
  recordOutcome(outcome: UxcOutcome, ak: string): void {
    const reason = outcome.kind === 'transport-error' ? outcome.reason : '';
    const errNo =
      outcome.kind === 'ok' ? '0' : outcome.kind === 'upstream-error' ? String(outcome.errNo) : '';
    this.requests.inc({ outcome: outcome.kind, reason, err_no: errNo, credential: ak });
    this.latency.observe({ outcome: outcome.kind }, outcome.durationMs / 1000);
  }

  recordWait(waitedMs: number): void {
    this.rateLimitWait.observe(waitedMs / 1000);
    if (waitedMs > 0) this.rateLimited.inc();
  }
}
