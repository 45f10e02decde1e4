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
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ErrorResponseDto, TenantRoute } from '../common/api-docs';
import { Page } from '../common/pagination';
import { RecoverDto, RecoveryAcceptedDto } from '../recoveries/dto/recovery.dto';
import { RecoveriesService } from '../recoveries/recoveries.service';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import {
  BATCH_MAX_ITEMS,
  BatchSubscriptionsDto,
  BatchSubscriptionsResultDto,
} from './dto/batch-subscriptions.dto';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { ListSubscriptionsQueryDto } from './dto/list-subscriptions.query';
import { SubscriptionPageDto, SubscriptionResponseDto } from './dto/subscription-response.dto';
import { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import { SubscriptionsService } from './subscriptions.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

@ApiTags('subscriptions')
@UseGuards(TenantAuthGuard)
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly recoveries: RecoveriesService,
  ) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    summary: 'Subscribe a callback URL to a task',
    description:
      'Idempotent on `(sid, callbackUrl)`: 201 the first time; afterwards 200 with the existing subscription when the fields given agree with it (a field left out agrees), 409 when `events`, `metadata` or `includePhotoParameters` differ (change them with PATCH). A canceled or disabled one is re-activated with the fields given. The task is polled from now on; when it already has history, its current state is delivered at once.',
  })
  @TenantRoute()
  @ApiCreatedResponse({ type: SubscriptionResponseDto, description: 'created' })
  @ApiOkResponse({ type: SubscriptionResponseDto, description: 'already existed, as given' })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'already exists with other events, metadata or includePhotoParameters: use PATCH',
  })
  async create(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: CreateSubscriptionDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubscriptionResponseDto> {
    const result = await this.subscriptions.create(tenant.id, dto);
    res.status(result.status);
    return result.body as SubscriptionResponseDto;
  }

  @Post('batch')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: `Subscribe up to ${BATCH_MAX_ITEMS} callbacks at once`,
    description:
      'Each item is what `POST /v1/subscriptions` takes and is answered as that call would answer it (`{status, body}`: 201, 200, 400 or 409), in order; one bad item fails only itself. The batch is registered in one transaction.',
  })
  @TenantRoute()
  @ApiOkResponse({ type: BatchSubscriptionsResultDto })
  async createBatch(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: BatchSubscriptionsDto,
  ): Promise<BatchSubscriptionsResultDto> {
    return { items: await this.subscriptions.createBatch(tenant.id, dto.items) };
  }

  @Get()
  @ApiOperation({ summary: 'List subscriptions, oldest first' })
  @TenantRoute()
  @ApiOkResponse({ type: SubscriptionPageDto })
  list(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Query() query: ListSubscriptionsQueryDto,
  ): Promise<Page<SubscriptionResponseDto>> {
    return this.subscriptions.list(tenant.id, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One subscription' })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  get(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
  ): Promise<SubscriptionResponseDto> {
    return this.subscriptions.get(tenant.id, id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: "Change a subscription's filter or metadata, or re-enable it",
    description:
      '`events` and `metadata` replace the current ones for later webhooks. `state: "active"` re-enables a `disabled` subscription (its endpoint once answered 410): its task is polled again, held deliveries go out in order, and it hears of the current state. Other states are refused; a canceled subscription answers 409 (POST it again).',
  })
  @TenantRoute({ notFound: true })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'the subscription is canceled' })
  update(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
    @Body() dto: UpdateSubscriptionDto,
  ): Promise<SubscriptionResponseDto> {
    return this.subscriptions.update(tenant.id, id, dto);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Cancel a subscription',
    description:
      'No further deliveries: pending ones are canceled. Answers 200 with the canceled subscription; canceling again is harmless. When it was the last active subscription of its task, the task stops being polled.',
  })
  @TenantRoute({ notFound: true, badRequest: false })
  @ApiOkResponse({ type: SubscriptionResponseDto })
  cancel(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
  ): Promise<SubscriptionResponseDto> {
    return this.subscriptions.cancel(tenant.id, id);
  }

  @Post(':id/recover')
  @Idempotent()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send again what the subscription missed in a window',
    description:
      'A background job sends again every delivery of this subscription created in `[since, until)` that ended `failed`, `canceled` or `held`, in sequence order and with its original `webhook-id`. Follow it with `GET /v1/recoveries/:id`.',
  })
  @TenantRoute({ notFound: true })
  @ApiAcceptedResponse({ type: RecoveryAcceptedDto })
  async recover(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('id') id: string,
    @Body() dto: RecoverDto,
  ): Promise<RecoveryAcceptedDto> {
    const subscription = await this.subscriptions.find(tenant.id, id);
    return this.recoveries.start(tenant.id, { subscriptionId: subscription.id }, dto);
  }
}
