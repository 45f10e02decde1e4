import { EstimatesModule } from '../estimates/estimates.module';
import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { TaskHistory } from './task-history';
import { TaskOutbox } from './task-outbox';

/** Imported by the modules that record task history or enqueue deliveries for it. */
@Module({
  imports: [OutboxModule, EstimatesModule],
  providers: [TaskOutbox, TaskHistory],
  exports: [TaskOutbox, TaskHistory],
})
export class TaskOutboxModule {}
