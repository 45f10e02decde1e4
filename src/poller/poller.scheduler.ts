import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import { HistoryRetentionService } from './history-retention.service';
import { PollerMetrics } from './poller.metrics';
import { PollerService } from './poller.service';

const TICK = 'poller.tick';
const HEARTBEAT = 'poller.heartbeat';
const RETENTION = 'poller.retention';
const FIRST_RETENTION = 'poller.retention.first';
const GAUGES = 'poller.gauges';
const OBSERVATIONS = 'poller.queue-observations';

const DAY_MS = 24 * 3600 * 1000;
const GAUGE_REFRESH_MS = 15_000;
// the ETA's observations outlive ESTIMATE_WINDOW by at most this: a burst
// writes thousands a second, so they are purged far more often than history
const OBSERVATION_PURGE_MS = 60_000;
// soon after start too, so a process restarted daily still purges
const FIRST_RETENTION_MS = 60_000;

/**
 * The poller's timers, registered only when POLLER_ENABLED: a process with the
 * poller off has no interval at all, so API nodes and pollers scale apart.
 * Timers only trigger; the work is in `PollerService` and `HistoryRetentionService`.
 */
@Injectable()
export class PollerScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PollerScheduler.name);
  private purging = false;
  private refreshing = false;

  constructor(
    private readonly config: ConfigService,
    private readonly registry: SchedulerRegistry,
    private readonly poller: PollerService,
    private readonly retention: HistoryRetentionService,
    private readonly metrics: PollerMetrics,
    private readonly prisma: PrismaService,
  ) {}

  /** How often due tasks are looked for: often enough that a due task waits little. */
  static tickMs(pollIntervalMs: number): number {
    return Math.max(20, Math.min(250, Math.floor(pollIntervalMs / 2)));
  }

  onApplicationBootstrap(): void {
    if (!this.config.env.pollerEnabled) {
      this.logger.log('POLLER_ENABLED=false: this process does not poll UXC');
      return;
    }
    const tickMs = PollerScheduler.tickMs(this.config.env.pollIntervalMs);
    this.every(TICK, tickMs, () => this.poller.tick());
    this.every(HEARTBEAT, this.poller.loop.heartbeatMs, () => this.poller.heartbeat());
    this.every(RETENTION, DAY_MS, () => this.purge());
    this.registry.addTimeout(
      FIRST_RETENTION,
      setTimeout(() => void this.purge(), FIRST_RETENTION_MS),
    );
    this.every(GAUGES, GAUGE_REFRESH_MS, () => this.refreshGauges());
    this.every(OBSERVATIONS, OBSERVATION_PURGE_MS, () => this.purgeObservations());
    void this.refreshGauges();
    this.logger.log(
      `polling UXC as ${this.poller.owner}: tick ${tickMs} ms, up to ${this.config.env.pollerConcurrency} at once`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.config.env.pollerEnabled) return;
    for (const name of [TICK, HEARTBEAT, RETENTION, GAUGES, OBSERVATIONS]) {
      if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    }
    if (this.registry.doesExist('timeout', FIRST_RETENTION)) {
      this.registry.deleteTimeout(FIRST_RETENTION);
    }
    // runs before the database module closes the pool (global modules are destroyed last)
    await this.poller.stop();
  }

  private every(name: string, ms: number, run: () => Promise<unknown>): void {
    const timer = setInterval(() => void run(), Math.max(1, Math.round(ms)));
    this.registry.addInterval(name, timer);
  }

  private async purge(): Promise<void> {
    if (this.purging) return;
    this.purging = true;
    try {
      await this.retention.purgeHistory();
    } catch (error) {
      this.logger.error(`purging old history failed: ${(error as Error).message}`);
    } finally {
      this.purging = false;
    }
  }

  private async purgeObservations(): Promise<void> {
    try {
      await this.retention.purgeQueueObservations();
    } catch (error) {
      this.logger.warn(`purging old queue observations failed: ${(error as Error).message}`);
    }
  }

  private async refreshGauges(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const rows = await this.prisma.$queryRaw<{ tracking: string; count: number }[]>`
        SELECT tracking, count(*)::int AS count FROM tasks GROUP BY tracking`;
      this.metrics.setTaskCounts(rows);
    } catch (error) {
      this.logger.warn(`counting tasks for metrics failed: ${(error as Error).message}`);
    } finally {
      this.refreshing = false;
    }
  }
}
