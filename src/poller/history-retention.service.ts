import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import { QueueObservationStore } from '../estimates/queue-observation.store';
import { purgeFinishedTasks } from '../tasks/task.store';
import { PollerMetrics } from './poller.metrics';

const BATCH = 500;

/**
 * Deletes tasks that finished more than HISTORY_RETENTION ago; their events,
 * subscriptions, deliveries and attempts go with them (foreign keys cascade).
 * In batches, so one run never holds many locks or one long transaction.
 */
@Injectable()
export class HistoryRetentionService {
  private readonly logger = new Logger(HistoryRetentionService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly config: ConfigService,
    private readonly metrics: PollerMetrics,
    private readonly observations: QueueObservationStore,
  ) {}

  /** The queue observations the ETA no longer looks at (older than ESTIMATE_WINDOW). */
  purgeQueueObservations(now = new Date()): Promise<number> {
    return this.observations.purge(new Date(now.getTime() - this.config.env.estimateWindowMs));
  }

  /** Returns how many tasks were deleted. */
  async purgeHistory(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.env.historyRetentionMs);
    let total = 0;
    for (;;) {
      const deleted = await purgeFinishedTasks(this.prisma, cutoff, BATCH);
      total += deleted;
      if (deleted < BATCH) break;
    }
    if (total > 0) {
      this.metrics.purged.inc(total);
      this.logger.log(`purged ${total} finished task(s) older than ${cutoff.toISOString()}`);
    }
    return total;
  }
}
