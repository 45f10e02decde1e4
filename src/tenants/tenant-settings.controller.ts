import { Body, Controller, Get, Patch, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantRoute } from '../common/api-docs';
import { AuthenticatedTenant, CurrentTenant } from './authenticated-tenant';
import { TenantSettingsDto, UpdateTenantSettingsDto } from './dto/tenant-settings.dto';
import { TenantAuthGuard } from './tenant-auth.guard';
import { TenantSettingsService } from './tenant-settings.service';

@ApiTags('tenant')
@UseGuards(TenantAuthGuard)
@Controller('v1/tenant')
export class TenantSettingsController {
  constructor(private readonly settings: TenantSettingsService) {}

  @Get()
  @ApiOperation({ summary: "The calling tenant's own settings" })
  @TenantRoute({ badRequest: false })
  @ApiOkResponse({ type: TenantSettingsDto })
  get(@CurrentTenant() tenant: AuthenticatedTenant): Promise<TenantSettingsDto> {
    return this.settings.get(tenant.id);
  }

  @Patch()
  @ApiOperation({
    summary: "Change the calling tenant's own settings: `alertUrl`",
    description:
      '`alertUrl` receives signed `subscription.disabled` (and `endpoint.disabled`) events when one is disabled after failing for WEBHOOK_DISABLE_AFTER; `null` removes it. A field left out stays as it is.',
  })
  @TenantRoute()
  @ApiOkResponse({ type: TenantSettingsDto })
  update(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: UpdateTenantSettingsDto,
  ): Promise<TenantSettingsDto> {
    return this.settings.update(tenant.id, dto);
  }
}
