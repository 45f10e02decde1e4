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
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { TenantRoute } from '../common/api-docs';
import { Page, PageQueryDto } from '../common/pagination';
import { RecoverDto, RecoveryAcceptedDto } from '../recoveries/dto/recovery.dto';
import { RecoveriesService } from '../recoveries/recoveries.service';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import {
  CreateEndpointDto,
  EndpointPageDto,
  EndpointResponseDto,
  EndpointSecretDto,
  UpdateEndpointDto,
} from './dto/endpoint.dto';
import { EndpointsService } from './endpoints.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

@ApiTags('endpoints')
@UseGuards(TenantAuthGuard)
@Controller('v1/endpoints')
export class EndpointsController {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly recoveries: RecoveriesService,
  ) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    summary: 'Add an endpoint: one URL for the events of every tracked task',
    description:
      'The endpoint receives the events of every task tracked with `POST /v1/tasks` that its `events` filter matches, signed with its own secret (`GET /v1/endpoints/:id/secret`), with `endpointId` in place of `subscriptionId`. Tasks tracked before it was added are heard of from their next event on.',
  })
  @TenantRoute()
  @ApiCreatedResponse({ type: EndpointResponseDto })
  create(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: CreateEndpointDto,
  ): Promise<EndpointResponseDto> {
    return this.endpoints.create(tenant.id, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List endpoints, oldest first' })
  @TenantRoute()
  @ApiOkResponse({ type: EndpointPageDto })
  list(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Query() query: PageQueryDto,
  ): Promise<Page<EndpointResponseDto>> {
    return this.endpoints.list(tenant.id, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One endpoint' })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiOkResponse({ type: EndpointResponseDto })
  get(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
  ): Promise<EndpointResponseDto> {
    return this.endpoints.get(tenant.id, id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: "Change an endpoint's url, filter or description, or re-enable it",
    description:
      'Later deliveries use the new values. `state: "active"` re-enables a `disabled` endpoint (it answered 410): the deliveries held for it go out, in order per task.',
  })
  @TenantRoute({ notFound: true })
  @ApiOkResponse({ type: EndpointResponseDto })
  update(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
    @Body() dto: UpdateEndpointDto,
  ): Promise<EndpointResponseDto> {
    return this.endpoints.update(tenant.id, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete an endpoint',
    description: 'Nothing more is sent to it; its pending deliveries and their history go with it.',
  })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiNoContentResponse({ description: 'deleted' })
  remove(@CurrentTenant() tenant: AuthenticatedTenant, @Param('id') id: string): Promise<void> {
    return this.endpoints.remove(tenant.id, id);
  }

  @Get(':id/secret')
  @ApiOperation({ summary: "The endpoint's signing secret, to verify its webhooks with" })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiOkResponse({ type: EndpointSecretDto })
  secret(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
  ): Promise<EndpointSecretDto> {
    return this.endpoints.secret(tenant.id, id);
  }

  @Post(':id/secret/rotate')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'A new signing secret for the endpoint; the old one keeps signing alongside it for WEBHOOK_SECRET_GRACE',
  })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiOkResponse({ type: EndpointSecretDto })
  rotate(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
  ): Promise<EndpointSecretDto> {
    return this.endpoints.rotateSecret(tenant.id, id);
  }

  @Post(':id/recover')
  @Idempotent()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send again what the endpoint missed in a window',
    description:
      'A background job sends again every delivery to this endpoint created in `[since, until)` that ended `failed`, `canceled` or `held`, in sequence order per task and with its original `webhook-id`. Follow it with `GET /v1/recoveries/:id`.',
  })
  @TenantRoute({ notFound: true })
  @ApiAcceptedResponse({ type: RecoveryAcceptedDto })
  async recover(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
    @Body() dto: RecoverDto,
  ): Promise<RecoveryAcceptedDto> {
    const endpoint = await this.endpoints.find(tenant.id, id);
    return this.recoveries.start(tenant.id, { endpointId: endpoint.id }, dto);
  }
}
