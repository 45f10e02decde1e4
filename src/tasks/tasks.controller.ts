import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { EXAMPLE_SID, TenantRoute } from '../common/api-docs';
import { Page, PageQueryDto } from '../common/pagination';
import { SidPipe } from '../common/sid.pipe';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
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
  @ApiOperation({ summary: 'The task now, as last seen at UXC' })
  @SID_PARAM
  @TenantRoute({ notFound: true })
  @ApiOkResponse({ type: TaskResponseDto })
  get(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Param('sid', SidPipe) sid: string,
  ): Promise<TaskResponseDto> {
    return this.tasks.get(tenant.id, sid);
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
