import { BadRequestException, Injectable } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import { checkCallbackUrl } from '../webhooks/callback-url-policy';
import { buildWebhookTestPayload, serializeWebhookPayload } from '../webhooks/webhook-payload';
import { WebhookSender } from '../webhooks/webhook-sender';
import { buildWebhookHeaders, generateWebhookMessageId } from '../webhooks/webhook-signer';
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
    const verdict = await checkCallbackUrl(callbackUrl, {
      allowPrivateNetworks: this.config.env.callbackAllowPrivateNetworks,
    });
    if (!verdict.ok) throw new BadRequestException([verdict.reason]);
    const body = serializeWebhookPayload(buildWebhookTestPayload({ callbackUrl }));
    const webhookId = generateWebhookMessageId();
    const headers = buildWebhookHeaders(
      webhookId,
      body,
      await this.secrets.signingSecrets(tenantId),
    );
    const result = await this.sender.send(verdict.url, headers, body);
    return {
      delivered: result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      webhookId,
    };
  }
}
