import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantRoute } from '../common/api-docs';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import { WebhookTestDto, WebhookTestResultDto } from './dto/webhook-test.dto';
import { WebhookTestService } from './webhook-test.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

@ApiTags('webhook secret')
@UseGuards(TenantAuthGuard)
@Controller('v1/webhook-test')
export class WebhookTestController {
  constructor(private readonly webhookTest: WebhookTestService) {}

  @Post()
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send one signed `webhook.test` event now and report the answer',
    description:
      "Lets a client check its endpoint and its signature check before real tasks flow. Signed like every webhook, with the tenant's current (and, during a rotation, previous) secret.",
  })
  @TenantRoute()
  @ApiOkResponse({ type: WebhookTestResultDto })
  send(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: WebhookTestDto,
  ): Promise<WebhookTestResultDto> {
    return this.webhookTest.send(tenant.id, dto.callbackUrl);
  }
}
