import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantRoute } from '../common/api-docs';
import { AuthenticatedTenant, CurrentTenant } from './authenticated-tenant';
import { WebhookSecretDto } from './dto/tenant-response.dto';
import { TenantAuthGuard } from './tenant-auth.guard';
import { TenantSecrets } from './tenant-secrets.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

@ApiTags('webhook secret')
@UseGuards(TenantAuthGuard)
@Controller('v1/webhook-secret')
export class WebhookSecretController {
  constructor(private readonly secrets: TenantSecrets) {}

  @Get()
  @ApiOperation({ summary: 'The signing secret to verify webhooks with' })
  @TenantRoute({ badRequest: false })
  @ApiOkResponse({ type: WebhookSecretDto })
  async get(@CurrentTenant() tenant: AuthenticatedTenant): Promise<WebhookSecretDto> {
    return { secret: await this.secrets.currentWebhookSecret(tenant.id) };
  }

  @Post('rotate')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A new signing secret; the old one keeps signing alongside it for WEBHOOK_SECRET_GRACE',
  })
  @TenantRoute({ badRequest: false })
  @ApiOkResponse({ type: WebhookSecretDto })
  async rotate(@CurrentTenant() tenant: AuthenticatedTenant): Promise<WebhookSecretDto> {
    return { secret: await this.secrets.rotateWebhookSecret(tenant.id) };
  }
}
