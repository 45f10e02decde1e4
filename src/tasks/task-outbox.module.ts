import { Global, Module } from '@nestjs/common';
import { TaskOutbox } from './task-outbox';

@Global()
@Module({ providers: [TaskOutbox], exports: [TaskOutbox] })
export class TaskOutboxModule {}
