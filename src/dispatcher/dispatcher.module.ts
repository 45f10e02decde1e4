import { Module } from '@nestjs/common';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { DeliveryQueue } from './delivery-queue';
import { DispatcherMetrics } from './dispatcher.metrics';
import { DispatcherScheduler } from './dispatcher.scheduler';
import { DispatcherService } from './dispatcher.service';

/**
 * The outbox worker. It meets the poller only in the deliveries table and
 * needs from the rest of the relay only the tenants' signing secrets.
 */
@Module({
  imports: [WebhooksModule],
  providers: [DeliveryQueue, DispatcherMetrics, DispatcherService, DispatcherScheduler],
})
export class DispatcherModule {}
