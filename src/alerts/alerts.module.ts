import { Module } from '@nestjs/common';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AlertSender } from './alert-sender.service';
import { AlertStore } from './alert.store';
import { AlertsService } from './alerts.service';

/** A tenant's own alerts (`subscription.disabled`, …): raised in a transaction, sent with retries. */
@Module({
  imports: [WebhooksModule],
  providers: [AlertStore, AlertsService, AlertSender],
  exports: [AlertsService],
})
export class AlertsModule {}
