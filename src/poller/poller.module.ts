import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import { MetricsService } from '../metrics/metrics.service';
import { UxcModule } from '../uxc/uxc.module';
import { HistoryRetentionService } from './history-retention.service';
import { PollerMetrics } from './poller.metrics';
import { PollerScheduler } from './poller.scheduler';
import { PollerService } from './poller.service';
import { TaskLeases } from './task-leases';

/** Margin over UXC_TIMEOUT_MS: a lease outlives the slowest answer plus the writes after it. */
const LEASE_MARGIN_MS = 5000;

/**
 * The poll loop. Always constructed (tests and the retention job use its
 * services); its timers run only with POLLER_ENABLED.
 */
@Module({
  imports: [UxcModule],
  providers: [
    {
      provide: PollerMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new PollerMetrics(metrics),
    },
    {
      provide: TaskLeases,
      inject: [PrismaService, ConfigService],
      useFactory: (prisma: PrismaService, config: ConfigService) =>
        new TaskLeases(
          prisma,
          // readable in the tasks table: which host and process holds a task
          `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`,
          config.env.uxcTimeoutMs + LEASE_MARGIN_MS,
        ),
    },
    PollerService,
    HistoryRetentionService,
    PollerScheduler,
  ],
})
export class PollerModule {}
