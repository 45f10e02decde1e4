import { Module } from '@nestjs/common';
import { RecoveriesModule } from '../recoveries/recoveries.module';
import { TenantsModule } from '../tenants/tenants.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionStore } from './subscription.store';
import { SubscriptionsService } from './subscriptions.service';
import { WebhookTestController } from './webhook-test.controller';
import { WebhookTestService } from './webhook-test.service';

@Module({
  imports: [TenantsModule, WebhooksModule, RecoveriesModule],
  controllers: [SubscriptionsController, WebhookTestController],
  providers: [SubscriptionStore, SubscriptionsService, WebhookTestService],
})
export class SubscriptionsModule {}
