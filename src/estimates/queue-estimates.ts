import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { DrainStatistics, TaskEstimate, drainStatistics, estimateTask } from './queue-estimator';
import { QueueObservationStore } from './queue-observation.store';

interface Cached {
  statistics: DrainStatistics | null;
  fetchedAt: number;
  refreshing: Promise<void> | null;
}

/**
 * Each tenant's drain statistics, kept in memory per process and refreshed
 * from `queue_observations` at most every ESTIMATE_REFRESH_MS, with one
 * indexed query per tenant. The poller asks for them for every task event it
 * writes, thousands a second in a burst: it gets what is cached at once
 * (a refresh, when due, runs in the background), so a poll never waits for a
 * query of its own. A queue drains over minutes; statistics a few seconds old
 * estimate it as well as fresh ones.
 */
@Injectable()
export class QueueEstimates {
  private readonly logger = new Logger(QueueEstimates.name);
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: QueueObservationStore,
    private readonly config: ConfigService,
  ) {}

  /** What is cached for the tenant now; starts a refresh when it is missing or stale. */
  current(tenantId: string): DrainStatistics | null {
    const cached = this.entry(tenantId);
    if (this.stale(cached)) void this.refresh(tenantId, cached);
    return cached.statistics;
  }

  /** As `current`, but waits for the first load of a tenant (API reads). */
  async fresh(tenantId: string): Promise<DrainStatistics | null> {
    const cached = this.entry(tenantId);
    if (cached.fetchedAt === 0) await this.refresh(tenantId, cached);
    return this.current(tenantId);
  }

  /** The estimate of a task of `tenantId`, from the cached statistics. */
  estimate(
    tenantId: string,
    task: { state: string | null; queueNum: number | null; positionSince: Date },
    now: Date,
  ): TaskEstimate {
    if (task.state !== 'queued') return estimateTask(task, null, now);
    return estimateTask(task, this.current(tenantId), now);
  }

  private entry(tenantId: string): Cached {
    let cached = this.cache.get(tenantId);
    if (!cached) {
      cached = { statistics: null, fetchedAt: 0, refreshing: null };
      this.cache.set(tenantId, cached);
    }
    return cached;
  }

  private stale(cached: Cached): boolean {
    return Date.now() - cached.fetchedAt >= this.config.env.estimateRefreshMs;
  }

  private refresh(tenantId: string, cached: Cached): Promise<void> {
    cached.refreshing ??= (async () => {
      try {
        const now = new Date();
        const windowMs = this.config.env.estimateWindowMs;
        const observations = await this.store.recent(tenantId, new Date(now.getTime() - windowMs));
        cached.statistics = drainStatistics(observations, now, { windowMs });
      } catch (error) {
        // an estimate is a courtesy: without fresh statistics the old ones (or none) serve
        this.logger.warn(
          `refreshing the queue statistics of tenant ${tenantId} failed: ${String(error)}`,
        );
      } finally {
        cached.fetchedAt = Date.now();
        cached.refreshing = null;
      }
    })();
    return cached.refreshing;
  }
}
