import { Module } from '@nestjs/common';
import { QueueEstimates } from './queue-estimates';
import { QueueObservationStore } from './queue-observation.store';

/**
 * The ETA of queued tasks: what the poller records, and the estimates read
 * from it. Imported by the modules that record or read them (one instance:
 * the estimates' cached statistics are shared).
 */
@Module({
  providers: [QueueObservationStore, QueueEstimates],
  exports: [QueueObservationStore, QueueEstimates],
})
export class EstimatesModule {}
