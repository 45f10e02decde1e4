import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { TenantSecretsModule } from '../tenants/tenant-secrets.module';
import { WebhookSenderModule } from './webhook-sender.module';
import { DispatcherMetrics } from './dispatcher.metrics';
import { DispatcherScheduler } from './dispatcher.scheduler';
import { DispatcherService } from './dispatcher.service';

/**
 * The outbox worker. It meets the poller only in the outbox tables and needs
 * from the rest of the relay only the tenants' signing secrets.
 */
@Module({
  imports: [WebhookSenderModule, OutboxModule, TenantSecretsModule],
  providers: [DispatcherMetrics, DispatcherService, DispatcherScheduler],
})
export class DispatcherModule {}
