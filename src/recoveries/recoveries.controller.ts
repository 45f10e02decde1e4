import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantRoute } from '../common/api-docs';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import { RecoveryResponseDto } from './dto/recovery.dto';
import { RecoveriesService } from './recoveries.service';

@ApiTags('recoveries')
@UseGuards(TenantAuthGuard)
@Controller('v1/recoveries')
export class RecoveriesController {
  constructor(private readonly recoveries: RecoveriesService) {}

  @Get(':id')
  @ApiOperation({ summary: "A recovery's progress" })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiOkResponse({ type: RecoveryResponseDto })
  get(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
  ): Promise<RecoveryResponseDto> {
    return this.recoveries.get(tenant.id, id);
  }
}
