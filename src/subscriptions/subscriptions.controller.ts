import {
  Body,
  Controller,
  Delete,
  Get,
  HttpStatus,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { TenantRoute } from '../common/api-docs';
import { Page } from '../common/pagination';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { ListSubscriptionsQueryDto } from './dto/list-subscriptions.query';
import { SubscriptionPageDto, SubscriptionResponseDto } from './dto/subscription-response.dto';
import { SubscriptionsService } from './subscriptions.service';

@ApiTags('subscriptions')
@UseGuards(TenantAuthGuard)
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @ApiOperation({
    summary: 'Subscribe a callback URL to a task',
    description:
      'Idempotent on `(sid, callbackUrl)`: 201 the first time, 200 with the existing subscription afterwards (a canceled or disabled one is re-activated with the new events and metadata). The task is polled from now on; when it already has history, its current state is delivered at once.',
  })
  @TenantRoute()
  @ApiCreatedResponse({ type: SubscriptionResponseDto, description: 'created' })
  @ApiOkResponse({ type: SubscriptionResponseDto, description: 'already existed' })
  async create(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: CreateSubscriptionDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SubscriptionResponseDto> {
    const result = await this.subscriptions.create(tenant.id, dto);
    res.status(result.created ? HttpStatus.CREATED : HttpStatus.OK);
    return result.subscription;
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
}
