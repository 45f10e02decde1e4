import { Module } from '@nestjs/common';
import { RecoveriesModule } from '../recoveries/recoveries.module';
import { TaskOutboxModule } from '../tasks/task-outbox.module';
import { TenantSecretsModule } from '../tenants/tenant-secrets.module';
import { TenantsModule } from '../tenants/tenants.module';
import { WebhookSenderModule } from '../dispatcher/webhook-sender.module';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionStore } from './subscription.store';
import { SubscriptionsService } from './subscriptions.service';
import { WebhookTestController } from './webhook-test.controller';
import { WebhookTestService } from './webhook-test.service';

@Module({
  imports: [
    TenantsModule,
    TenantSecretsModule,
    TaskOutboxModule,
    WebhookSenderModule,
    RecoveriesModule,
  ],
  controllers: [SubscriptionsController, WebhookTestController],
  providers: [SubscriptionStore, SubscriptionsService, WebhookTestService],
})
export class SubscriptionsModule {}
