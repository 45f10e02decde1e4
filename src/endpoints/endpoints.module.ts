import { Module } from '@nestjs/common';
import { RecoveriesModule } from '../recoveries/recoveries.module';
import { SubscriptionStore } from '../subscriptions/subscription.store';
import { TaskOutboxModule } from '../tasks/task-outbox.module';
import { TenantSecretsModule } from '../tenants/tenant-secrets.module';
import { TenantsModule } from '../tenants/tenants.module';
import { EndpointStore } from './endpoint.store';
import { EndpointsController } from './endpoints.controller';
import { EndpointsService } from './endpoints.service';
import { TrackedTasksController } from './tracked-tasks.controller';

/** Endpoints, their secrets and recoveries, and the tasks tracked for them (POST /v1/tasks). */
@Module({
  imports: [TenantsModule, TenantSecretsModule, TaskOutboxModule, RecoveriesModule],
  controllers: [EndpointsController, TrackedTasksController],
  providers: [EndpointStore, EndpointsService, SubscriptionStore],
})
export class EndpointsModule {}
