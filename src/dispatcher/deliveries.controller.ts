import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorResponseDto, TenantRoute } from '../common/api-docs';
import { Page, PageQueryDto } from '../common/pagination';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import { DeliveriesService } from './deliveries.service';
import { DeliveryListQueryDto } from './dto/delivery-list-query.dto';
import {
  DeliveryDetailDto,
  DeliveryPageDto,
  DeliveryResponseDto,
} from './dto/delivery-response.dto';
import { RedeliverDto } from './dto/redeliver.dto';
import { Idempotent } from '../idempotency/idempotent.decorator';

@ApiTags('deliveries')
@UseGuards(TenantAuthGuard)
@Controller('v1')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get('deliveries')
  @ApiOperation({
    summary: "The tenant's deliveries, newest first",
    description:
      'Across every subscription of the tenant; `state` and `eventType` narrow the list, e.g. `?state=failed` for what needs a redelivery.',
  })
  @TenantRoute()
  @ApiOkResponse({ type: DeliveryPageDto })
  listAll(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Query() query: DeliveryListQueryDto,
  ): Promise<Page<DeliveryResponseDto>> {
    return this.deliveries.listForTenant(tenant.id, query);
  }

  @Get('subscriptions/:id/deliveries')
  @ApiOperation({ summary: "A subscription's deliveries, oldest first" })
  @TenantRoute({ notFound: true })
  @ApiOkResponse({ type: DeliveryPageDto })
  list(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<DeliveryResponseDto>> {
    return this.deliveries.listForSubscription(tenant.id, id, query);
  }

  @Get('endpoints/:id/deliveries')
  @ApiOperation({
    summary: "An endpoint's deliveries, of every tracked task, oldest first",
  })
  @TenantRoute({ notFound: true })
  @ApiOkResponse({ type: DeliveryPageDto })
  listForEndpoint(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<DeliveryResponseDto>> {
    return this.deliveries.listForEndpoint(tenant.id, id, query);
  }

  @Get('deliveries/:id')
  @ApiOperation({ summary: 'One delivery with every attempt' })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiOkResponse({ type: DeliveryDetailDto })
  get(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
  ): Promise<DeliveryDetailDto> {
    return this.deliveries.get(tenant.id, id);
  }

  @Post('deliveries/:id/redeliver')
  @Idempotent()
  @HttpCode(202)
  @ApiOperation({
    summary:
      'One more attempt, same `webhook-id`; or, with `asNew`, the event again as a new message',
    description:
      'The delivery becomes `pending` and due now, whatever state it ended in (a `failed` one included); the dispatcher sends it with the same id, so receivers deduplicate it as usual. With `{"asNew": true}` the delivery is left as it is and a new delivery of the same event (same body, a new id and so a new `webhook-id`) is queued in its place in the sequence order; the answer is that new delivery.',
  })
  @TenantRoute({ notFound: true })
  @ApiAcceptedResponse({ type: DeliveryResponseDto })
  @ApiConflictResponse({ description: 'the subscription is canceled', type: ErrorResponseDto })
  redeliver(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
    @Body() dto: RedeliverDto,
  ): Promise<DeliveryResponseDto> {
    return this.deliveries.redeliver(tenant.id, id, dto);
  }
}
