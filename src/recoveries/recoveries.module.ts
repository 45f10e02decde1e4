import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { TenantsModule } from '../tenants/tenants.module';
import { RecoveriesController } from './recoveries.controller';
import { RecoveriesService } from './recoveries.service';
import { RecoveryStore } from './recovery.store';
import { RecoveryWorker } from './recovery.worker';

/** Recovery jobs: the API that queues and shows them, and the worker that runs them. */
@Module({
  imports: [TenantsModule, OutboxModule],
  controllers: [RecoveriesController],
  providers: [RecoveriesService, RecoveryStore, RecoveryWorker],
  exports: [RecoveriesService],
})
export class RecoveriesModule {}
