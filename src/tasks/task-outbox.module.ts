import { Global, Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { TaskHistory } from './task-history';
import { TaskOutbox } from './task-outbox';

@Global()
@Module({
  imports: [OutboxModule],
  providers: [TaskOutbox, TaskHistory],
  exports: [TaskOutbox, TaskHistory],
})
export class TaskOutboxModule {}
