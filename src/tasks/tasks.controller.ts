import { Controller, Get, Headers, Param, Query, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { EXAMPLE_SID, TenantRoute } from '../common/api-docs';
import { Page, PageQueryDto } from '../common/pagination';
import { AbortSignalOf, RequestAborted } from '../common/request-aborted';
import { SidPipe } from '../common/sid.pipe';
import { preferredWait } from '../streams/prefer-wait';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import { GetTaskQueryDto } from './dto/get-task.query';
import { ListTasksQueryDto } from './dto/list-tasks.query';
import {
  TaskEventPageDto,
  TaskEventResponseDto,
  TaskPageDto,
  TaskResponseDto,
} from './dto/task-response.dto';
import { TasksService } from './tasks.service';

const SID_PARAM = ApiParam({
  name: 'sid',
  description: 'the UXC task id, URL-encoded (`BT%7C7aa9…`; a `/` is `%2F`)',
  example: EXAMPLE_SID,
});

@ApiTags('tasks')
@UseGuards(TenantAuthGuard)
@Controller('v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get()
  @ApiOperation({ summary: 'List tasks, oldest first' })
  @TenantRoute()
  @ApiOkResponse({ type: TaskPageDto })
  list(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Query() query: ListTasksQueryDto,
  ): Promise<Page<TaskResponseDto>> {
    return this.tasks.list(tenant.id, query);
  }

  @Get(':sid')
  @ApiOperation({
    summary: 'The task now, as last seen at UXC; with a wait, a long poll',
    description:
      "With `?wait=N` (or `Prefer: wait=N`, at most 60 s) the answer waits until the task's `sequence` passes `after` (default: its sequence now) or the task is finished, and comes at once then; else after N seconds, with the state as it is.",
  })
  @SID_PARAM
  @ApiHeader({ name: 'Prefer', required: false, description: '`wait=N`: as `?wait=N`' })
  @TenantRoute({ notFound: true })
  @ApiOkResponse({ type: TaskResponseDto })
  get(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('sid', SidPipe) sid: string,
    @Query() query: GetTaskQueryDto,
    @Headers('prefer') prefer: string | undefined,
    @RequestAborted() aborted: AbortSignalOf,
  ): Promise<TaskResponseDto> {
    const waitSeconds = query.wait ?? preferredWait(prefer);
    return this.tasks.get(tenant.id, sid, {
      waitSeconds,
      after: query.after,
      aborted: waitSeconds ? aborted() : undefined,
    });
  }

  @Get(':sid/events')
  @ApiOperation({ summary: "The task's history, oldest first" })
  @SID_PARAM
  @TenantRoute({ notFound: true })
  @ApiOkResponse({ type: TaskEventPageDto })
  events(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('sid', SidPipe) sid: string,
    @Query() query: PageQueryDto,
  ): Promise<Page<TaskEventResponseDto>> {
    return this.tasks.events(tenant.id, sid, query);
  }
}
