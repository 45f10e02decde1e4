import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { OutboxModule } from '../outbox/outbox.module';
import { TenantSecretsModule } from '../tenants/tenant-secrets.module';
import { WebhookSenderModule } from './webhook-sender.module';
import { DispatcherMetrics } from './dispatcher.metrics';
import { DispatcherScheduler } from './dispatcher.scheduler';
import { DispatcherService } from './dispatcher.service';
import { TargetHealthService } from './target-health.service';

/**
 * The outbox worker. It meets the poller only in the outbox tables and needs
 * from the rest of the relay only the tenants' signing secrets. The disable
 * sweep (WEBHOOK_DISABLE_AFTER) and the alerts it raises run beside it.
 */
@Module({
  imports: [WebhookSenderModule, OutboxModule, TenantSecretsModule, AlertsModule],
  providers: [DispatcherMetrics, DispatcherService, DispatcherScheduler, TargetHealthService],
})
export class DispatcherModule {}
