import { Module } from '@nestjs/common';
import { WebhookSenderModule } from '../dispatcher/webhook-sender.module';
import { TenantSecretsModule } from '../tenants/tenant-secrets.module';
import { AlertSender } from './alert-sender.service';
import { AlertStore } from './alert.store';
import { AlertsService } from './alerts.service';

/** A tenant's own alerts (`subscription.disabled`, …): raised in a transaction, sent with retries. */
@Module({
  imports: [WebhookSenderModule, TenantSecretsModule],
  providers: [AlertStore, AlertsService, AlertSender],
  exports: [AlertsService],
})
export class AlertsModule {}
