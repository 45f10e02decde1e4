import { EstimatesModule } from '../estimates/estimates.module';
import { Module } from '@nestjs/common';
import { WorkLoop } from '../common/work-loop';
import { ConfigService } from '../config/config.service';
import { DatabasePool } from '../database/database-pool';
import { PrismaService } from '../database/prisma.service';
import { MetricsService } from '../metrics/metrics.service';
import { UxcModule } from '../uxc/uxc.module';
import { HistoryRetentionService } from './history-retention.service';
import { PollerMetrics } from './poller.metrics';
import { PollerScheduler } from './poller.scheduler';
import { PollerService } from './poller.service';
import { TaskOutboxModule } from '../tasks/task-outbox.module';
import { TaskStore } from '../tasks/task.store';
import { TenantSecretsModule } from '../tenants/tenant-secrets.module';

/**
 * The poll loop. Always constructed (tests and the retention job use its
 * services); its timers run only with POLLER_ENABLED.
 */
@Module({
  imports: [UxcModule, TaskOutboxModule, TenantSecretsModule, EstimatesModule],
  providers: [
    {
      provide: PollerMetrics,
      inject: [MetricsService],
      useFactory: (metrics: MetricsService) => new PollerMetrics(metrics),
    },
    {
      provide: TaskStore,
      inject: [PrismaService, DatabasePool, ConfigService],
      useFactory: (prisma: PrismaService, database: DatabasePool, config: ConfigService) =>
        // a lease outlives the slowest UXC answer plus the writes after it
        new TaskStore(prisma, database, new WorkLoop(config.env.uxcTimeoutMs)),
    },
    PollerService,
    HistoryRetentionService,
    PollerScheduler,
  ],
})
export class PollerModule {}
