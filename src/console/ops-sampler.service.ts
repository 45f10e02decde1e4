import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { OpsHistory } from './ops-history';
import {
  CallCounts,
  callsBetween,
  credentialRates,
  MetricReading,
  OpsReadings,
  pollLagBetween,
  QueueRow,
} from './ops-readings';
import { OpsHistoryDto, OpsHistorySampleDto } from './ops-summary.dto';

/** One sample as this process keeps it: every tenant's queue, the counters' deltas over the interval. */
interface StoredSample {
  at: Date;
  reading: MetricReading;
  queues: QueueRow[];
  polls: number;
  pollLagSeconds: number | null;
  calls: Map<string, CallCounts>;
}

/**
 * Samples the health numbers every OPS_SAMPLE_MS and keeps the last hour in
 * memory, so the console's chart starts full instead of filling in while the
 * page stays open. Per process: the queue is the database's and the same on
 * every replica; the poll lag and UXC calls are this process's, as on `/metrics`.
 */
@Injectable()
export class OpsSamplerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OpsSamplerService.name);
  private readonly intervalMs: number;
  private readonly history: OpsHistory<StoredSample>;
  /** the counters when sampling started: the first interval's deltas start from them */
  private start: MetricReading | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    config: ConfigService,
    private readonly readings: OpsReadings,
  ) {
    this.intervalMs = config.env.opsSampleMs;
    this.history = OpsHistory.forInterval<StoredSample>(this.intervalMs);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.start = await this.readings.metricReading();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    // the chart's history never keeps a process alive
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now; a sample still running (a slow database) makes this one a no-op. */
  async sample(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const queues = await this.readings.queues();
      const reading = await this.readings.metricReading();
      const previous = this.history.latest()?.reading ?? this.start;
      this.history.push({
        at: reading.at,
        reading,
        queues,
        polls: Math.max(0, reading.polls - (previous?.polls ?? 0)),
        pollLagSeconds: pollLagBetween(previous, reading),
        calls: callsBetween(previous, reading),
      });
    } catch (error) {
      this.logger.warn(`sampling the health numbers failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  /**
   * The mean lag of the polls of the last one to two sample intervals (from
   * the newest sample at least an interval old), not since the process
   * started: a lag that is over stops showing within minutes.
   */
  recentPollLag(now: MetricReading): number | null {
    const since = now.at.getTime() - this.intervalMs;
    const samples = this.history.samples(now.at);
    const base =
      [...samples].reverse().find((s) => s.at.getTime() <= since)?.reading ??
      samples[0]?.reading ??
      this.start;
    return pollLagBetween(base, now);
  }

  /**
   * The last hour as a tenant (its own deliveries and UXC credential) or the
   * admin (`tenantId` undefined: the whole relay) sees it.
   */
  scoped(tenantId: string | undefined, credential: string | null | undefined): OpsHistoryDto {
    return {
      scope: tenantId ? 'tenant' : 'relay',
      sampleIntervalSeconds: this.intervalMs / 1000,
      samples: this.history.samples().map((s) => project(s, tenantId, credential)),
    };
  }
}

function project(
  sample: StoredSample,
  tenantId: string | undefined,
  credential: string | null | undefined,
): OpsHistorySampleDto {
  const queues = tenantId ? sample.queues.filter((q) => q.tenantId === tenantId) : sample.queues;
  let oldest: number | null = null;
  for (const q of queues) {
    if (q.oldestPendingAt && (oldest === null || q.oldestPendingAt.getTime() < oldest)) {
      oldest = q.oldestPendingAt.getTime();
    }
  }
  const rates = credentialRates(sample.calls, credential);
  const calls = rates.reduce((total, c) => total + c.requests, 0);
  const errors = rates.reduce((total, c) => total + c.errors, 0);
  return {
    at: sample.at,
    pendingDeliveries: queues.reduce((total, q) => total + q.pending, 0),
    oldestPendingAgeSeconds:
      oldest === null ? null : Math.max(0, (sample.at.getTime() - oldest) / 1000),
    heldDeliveries: queues.reduce((total, q) => total + q.held, 0),
    polls: sample.polls,
    pollLagSeconds: sample.pollLagSeconds,
    uxcErrorRate: calls > 0 ? errors / calls : null,
    uxcCredentials: rates,
  };
}
