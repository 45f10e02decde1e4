import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminRoute, ErrorResponseDto } from '../common/api-docs';
import { Page, PageQueryDto } from '../common/pagination';
import { AdminAuthGuard } from './admin-auth.guard';
import { CreateTenantDto } from './dto/create-tenant.dto';
import {
  ApiKeyResponseDto,
  CreatedApiKeyDto,
  CreatedTenantDto,
  TenantPageDto,
  TenantResponseDto,
} from './dto/tenant-response.dto';
import { UpdateTenantDto } from './dto/update-tenant.dto';
import { TenantsService } from './tenants.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

@ApiTags('tenants (admin)')
@ApiForbiddenResponse({
  description: 'the admin API is off (ADMIN_TOKEN unset)',
  type: ErrorResponseDto,
})
@UseGuards(AdminAuthGuard)
@Controller('v1/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Create a tenant; its first API key is shown only in this answer' })
  @AdminRoute()
  @ApiCreatedResponse({ type: CreatedTenantDto })
  @ApiConflictResponse({ description: 'the name is taken', type: ErrorResponseDto })
  create(@Body() dto: CreateTenantDto): Promise<CreatedTenantDto> {
    return this.tenants.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List tenants (never their secret keys or API keys)' })
  @AdminRoute()
  @ApiOkResponse({ type: TenantPageDto })
  list(@Query() query: PageQueryDto): Promise<Page<TenantResponseDto>> {
    return this.tenants.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One tenant' })
  @AdminRoute({ notFound: true })
  @ApiOkResponse({ type: TenantResponseDto })
  get(@Param('id') id: string): Promise<TenantResponseDto> {
    return this.tenants.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a tenant or replace its UXC credentials' })
  @AdminRoute({ notFound: true })
  @ApiOkResponse({ type: TenantResponseDto })
  @ApiConflictResponse({ description: 'the name is taken', type: ErrorResponseDto })
  update(@Param('id') id: string, @Body() dto: UpdateTenantDto): Promise<TenantResponseDto> {
    return this.tenants.update(id, dto);
  }

  @Post(':id/api-keys')
  @Idempotent()
  @ApiOperation({ summary: 'A new API key; older keys keep working until deleted' })
  @AdminRoute({ notFound: true })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  createApiKey(@Param('id') id: string): Promise<CreatedApiKeyDto> {
    return this.tenants.createApiKey(id);
  }

  @Get(':id/api-keys')
  @ApiOperation({ summary: "The tenant's API keys: prefixes and last use, never the keys" })
  @AdminRoute({ notFound: true })
  @ApiOkResponse({ type: [ApiKeyResponseDto] })
  listApiKeys(@Param('id') id: string): Promise<ApiKeyResponseDto[]> {
    return this.tenants.listApiKeys(id);
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key at once' })
  @AdminRoute({ notFound: true })
  @ApiNoContentResponse({ description: 'revoked' })
  deleteApiKey(@Param('id') id: string, @Param('keyId') keyId: string): Promise<void> {
    return this.tenants.deleteApiKey(id, keyId);
  }
}
