import { Injectable } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import { buildWebhookTestPayload, serializeWebhookPayload } from '../webhooks/webhook-payload';
import { WebhookSender } from '../dispatcher/webhook-sender';
import { buildWebhookHeaders, generateWebhookMessageId } from '../webhooks/webhook-signer';
import { allowedCallbackUrl } from './allowed-callback-url';
import { WebhookTestResultDto } from './dto/webhook-test.dto';

/** Sends one signed `webhook.test` now, so a client can check its endpoint and signature code. */
@Injectable()
export class WebhookTestService {
  constructor(
    private readonly config: ConfigService,
    private readonly secrets: TenantSecrets,
    private readonly sender: WebhookSender,
  ) {}

  async send(tenantId: string, callbackUrl: string): Promise<WebhookTestResultDto> {
    const url = await allowedCallbackUrl(callbackUrl, this.config);
    const body = serializeWebhookPayload(buildWebhookTestPayload({ callbackUrl }));
    const webhookId = generateWebhookMessageId();
    const headers = buildWebhookHeaders(
      webhookId,
      body,
      await this.secrets.signingSecrets(tenantId),
    );
    const result = await this.sender.send(url, headers, body);
    return {
      delivered: result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      webhookId,
    };
  }
}
