import {
  Body,
  Controller,
  Get,
  Headers,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { EXAMPLE_SID, ErrorResponseDto, TenantRoute } from '../common/api-docs';
import { SidPipe } from '../common/sid.pipe';
import { AuthenticatedTenant, CurrentTenant } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import { CreateStreamTokenDto, StreamTokenResponseDto } from './dto/stream-token.dto';
import { StreamQueryDto } from './dto/stream.query';
import { StreamAuthGuard, StreamRequest } from './stream-auth.guard';
import { StreamsService } from './streams.service';
import { Idempotent } from '../idempotency/idempotent.decorator';

const LAST_EVENT_ID_HEADER = ApiHeader({
  name: 'Last-Event-ID',
  required: false,
  description: 'resume after this event id; `EventSource` sends it by itself when it reconnects',
});

const TOKEN_FORBIDDEN = ApiForbiddenResponse({
  description: 'a stream token issued for another task',
  type: ErrorResponseDto,
});

const TASK_STREAM_FORMAT = `Each event:

\`\`\`
id: 4
event: task.succeeded
data: {"sid":"BT|7aa9…","sequence":4,"state":"succeeded","previousState":"running",…}
\`\`\`

\`id\` is the task's \`sequence\`; \`event\` the event type; \`data\` the webhook body's \`data\` without the subscription's fields (\`subscriptionId\`, \`metadata\`, \`photoParameters\`). A \`: keep-alive\` comment goes out every \`STREAM_HEARTBEAT_MS\` (15 s).`;

@ApiTags('streams')
@Controller('v1')
export class StreamsController {
  constructor(private readonly streams: StreamsService) {}

  @Post('stream-tokens')
  @Idempotent()
  @UseGuards(TenantAuthGuard)
  @ApiOperation({
    summary: 'A short-lived token that opens streams as `?token=`, for browsers',
    description:
      "`EventSource` cannot send `Authorization`. The token works as `?token=` on `GET /v1/tasks/:sid/stream` and `GET /v1/events/stream` and nowhere else; issued with a `sid`, only on that task's stream. A stream opened before it expires stays open.",
  })
  @TenantRoute()
  @ApiCreatedResponse({ type: StreamTokenResponseDto })
  issueToken(
    @CurrentTenant() tenant: AuthenticatedTenant,
    @Body() body: CreateStreamTokenDto,
  ): StreamTokenResponseDto {
    return this.streams.issueToken(tenant, body);
  }

  @Get('tasks/:sid/stream')
  @UseGuards(StreamAuthGuard)
  @ApiOperation({
    summary: "The task's events as server-sent events, live, from any replica",
    description: `Starts with the current state (the latest event), or with every event after \`Last-Event-ID\`; then each event as it is observed, exactly once. Ends after the task's final event (\`task.succeeded\`, \`task.failed\`, \`task.canceled\`, \`task.expired\`, \`task.error\`); a stream of a task that is finished and fully sent ends at once.\n\n${TASK_STREAM_FORMAT}`,
  })
  @ApiParam({ name: 'sid', description: 'the UXC task id, URL-encoded', example: EXAMPLE_SID })
  @LAST_EVENT_ID_HEADER
  @TenantRoute({ notFound: true })
  @TOKEN_FORBIDDEN
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'a `text/event-stream`',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  taskStream(
    @Req() req: StreamRequest,
    @Res() res: Response,
    @Param('sid', SidPipe) sid: string,
    @Query() query: StreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
  ): Promise<void> {
    return this.streams.openTaskStream(req, res, sid, {
      header: lastEventId,
      query: query.lastEventId,
    });
  }

  @Get('events/stream')
  @UseGuards(StreamAuthGuard)
  @ApiOperation({
    summary: "Every task's events of the tenant as server-sent events, live; never ends by itself",
    description: `Live from the moment it opens; with \`Last-Event-ID\`, every event after that one first. Here an event's \`id\` is its history row id, unique across tasks and increasing: give the last one received to resume. \`event\` and \`data\` are as in \`GET /v1/tasks/:sid/stream\`; \`data.sid\` and \`data.sequence\` tell the task and its order. A \`: keep-alive\` comment goes out every \`STREAM_HEARTBEAT_MS\` (15 s).`,
  })
  @LAST_EVENT_ID_HEADER
  @TenantRoute()
  @TOKEN_FORBIDDEN
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'a `text/event-stream`',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  tenantStream(
    @Req() req: StreamRequest,
    @Res() res: Response,
    @Query() query: StreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
  ): void {
    this.streams.openTenantStream(req, res, { header: lastEventId, query: query.lastEventId });
  }
}
