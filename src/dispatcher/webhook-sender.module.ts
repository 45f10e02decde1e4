import { Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { WebhookSender } from './webhook-sender';

/**
 * One shared `WebhookSender` (and so one keep-alive pool) for the test
 * endpoint and the dispatcher, configured from the environment. Per-host caps
 * belong to the dispatcher: an agent queue would count against the timeout.
 */
@Module({
  providers: [
    {
      provide: WebhookSender,
      inject: [ConfigService],
      useFactory: (config: ConfigService): WebhookSender =>
        new WebhookSender({
          timeoutMs: config.env.webhookTimeoutMs,
          allowPrivateNetworks: config.env.callbackAllowPrivateNetworks,
        }),
    },
  ],
  exports: [WebhookSender],
})
export class WebhookSenderModule {}
