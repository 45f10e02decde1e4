import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { TenantRoute } from '../common/api-docs';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import {
  BatchTrackTasksDto,
  BatchTrackTasksResultDto,
  TRACK_BATCH_MAX_ITEMS,
  TrackedTaskResponseDto,
  TrackTaskDto,
} from './dto/track-task.dto';
import { EndpointsService } from './endpoints.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

@ApiTags('tasks')
@UseGuards(TenantAuthGuard)
@Controller('v1/tasks')
export class TrackedTasksController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    summary: "Track a task for the tenant's endpoints, without a callback URL",
    description:
      "201 the first time, 200 afterwards (metadata given replaces the task's). The task is polled from now on, and its events go to every active endpoint whose filter matches; when it already has history, the endpoints hear of its current state at once.",
  })
  @TenantRoute()
  @ApiCreatedResponse({ type: TrackedTaskResponseDto, description: 'now tracked' })
  @ApiOkResponse({ type: TrackedTaskResponseDto, description: 'was tracked already' })
  async track(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: TrackTaskDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TrackedTaskResponseDto> {
    const result = await this.endpoints.track(tenant.id, dto);
    res.status(result.status);
    return result.body as TrackedTaskResponseDto;
  }

  @Post('batch')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: `Track up to ${TRACK_BATCH_MAX_ITEMS} tasks at once`,
    description:
      'Each item is what `POST /v1/tasks` takes and is answered as that call would answer it (`{status, body}`: 201, 200 or 400), in order; one bad item fails only itself.',
  })
  @TenantRoute()
  @ApiOkResponse({ type: BatchTrackTasksResultDto })
  async trackBatch(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() dto: BatchTrackTasksDto,
  ): Promise<BatchTrackTasksResultDto> {
    return { items: await this.endpoints.trackBatch(tenant.id, dto.items) };
  }
}
