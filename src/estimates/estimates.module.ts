import { Global, Module } from '@nestjs/common';
import { QueueEstimates } from './queue-estimates';
import { QueueObservationStore } from './queue-observation.store';

/** The ETA of queued tasks: what the poller records, and the estimates read from it. */
@Global()
@Module({
  providers: [QueueObservationStore, QueueEstimates],
  exports: [QueueObservationStore, QueueEstimates],
})
export class EstimatesModule {}
