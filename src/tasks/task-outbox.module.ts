import { Global, Module } from '@nestjs/common';
import { TaskHistory } from './task-history';
import { TaskOutbox } from './task-outbox';

@Global()
@Module({ providers: [TaskOutbox, TaskHistory], exports: [TaskOutbox, TaskHistory] })
export class TaskOutboxModule {}
