import {
  BadRequestException,
  ForbiddenException,
  Injectable,
  NotFoundException,
  OnModuleDestroy,
} from '@nestjs/common';
import type { Response } from 'express';
import { ConfigService } from '../config/config.service';
import { DatabasePool } from '../database/database-pool';
import type { AuthenticatedTenant } from '../tenants/authenticated-tenant';
import { CreateStreamTokenDto, StreamTokenResponseDto } from './dto/stream-token.dto';
import { SseConnection } from './sse';
import type { StreamRequest } from './stream-auth.guard';
import { QueueEstimates } from '../estimates/queue-estimates';
import { FINISHED_TRACKINGS, StreamEventData, streamEventData } from './stream-events';
import { STREAM_TOKEN_DEFAULT_TTL_S, StreamTokens } from './stream-token';
import { TaskEventFeed } from './task-event-feed';
import { TaskStream } from './task-stream';
import { TenantStream } from './tenant-stream';

const FIND_TASK = `SELECT id, tracking, sequence FROM tasks WHERE tenant_id = $1 AND sid = $2`;

const LAST_EVENT_ID = /^\d{1,18}$/;

/** Opens event streams and issues the tokens that open them from a browser. */
@Injectable()
export class StreamsService implements OnModuleDestroy {
  private readonly open = new Set<SseConnection>();
  private readonly eventData: StreamEventData;

  constructor(
    private readonly config: ConfigService,
    private readonly database: DatabasePool,
    private readonly feed: TaskEventFeed,
    private readonly tokens: StreamTokens,
    estimates: QueueEstimates,
  ) {
    this.eventData = streamEventData(estimates);
  }

  issueToken(tenant: AuthenticatedTenant, input: CreateStreamTokenDto): StreamTokenResponseDto {
    const ttlSeconds = input.ttlSeconds ?? STREAM_TOKEN_DEFAULT_TTL_S;
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + ttlSeconds * 1000);
    const token = this.tokens.issue({
      tenantId: tenant.id,
      apiKeyId: tenant.apiKeyId,
      ...(input.sid !== undefined ? { sid: input.sid } : {}),
      expiresAt,
    });
    return { token, expiresAt };
  }

  async openTaskStream(
    req: StreamRequest,
    res: Response,
    sid: string,
    resume: { header?: string; query?: string },
  ): Promise<void> {
    const grantSid = req.streamGrant?.sid;
    if (grantSid !== undefined && grantSid !== sid) {
      throw new ForbiddenException("this stream token opens another task's stream only");
    }
    const lastEventId = this.lastEventId(resume);
    const { rows } = await this.database.pool.query<{
      id: string;
      tracking: string;
      sequence: number;
    }>({ name: 'streams.find-task', text: FIND_TASK, values: [tenantOf(req).id, sid] });
    const task = rows[0];
    if (!task)
      throw new NotFoundException(
        'no task with this sid: track it first (POST /v1/tasks, or POST /v1/subscriptions)',
      );
    // subscribed before the history is read: what is committed meanwhile is held, not missed
    const sse = this.connect(res, () => unsubscribe());
    if (!sse) return;
    const stream = new TaskStream(this.database, task.id, sse, this.eventData);
    const unsubscribe = this.feed.subscribeTask(task.id, stream);
    stream.start(
      lastEventId === undefined ? undefined : Number(lastEventId),
      FINISHED_TRACKINGS.includes(task.tracking),
    );
  }

  openTenantStream(
    req: StreamRequest,
    res: Response,
    resume: { header?: string; query?: string },
  ): void {
    if (req.streamGrant?.sid !== undefined) {
      throw new ForbiddenException("this stream token opens one task's stream only");
    }
    const lastEventId = this.lastEventId(resume);
    const tenantId = tenantOf(req).id;
    const sse = this.connect(res, () => unsubscribe());
    if (!sse) return;
    const stream = new TenantStream(this.database, tenantId, sse, this.eventData);
    const unsubscribe = this.feed.subscribeTenant(tenantId, stream);
    stream.start(lastEventId === undefined ? undefined : BigInt(lastEventId));
  }

  /** Shutting down: every stream ends now, so the HTTP server can close; clients resume elsewhere. */
  onModuleDestroy(): void {
    for (const sse of [...this.open]) sse.end();
  }

  /**
   * The open stream; undefined when the client left while it was being opened
   * (its key checked, its task looked up): that 'close' has fired already and
   * never comes again, so nothing may be subscribed or timed for it.
   */
  private connect(res: Response, release: () => void): SseConnection | undefined {
    if (res.destroyed) return undefined;
    const sse: SseConnection = new SseConnection(res, this.config.env.streamHeartbeatMs, () => {
      this.open.delete(sse);
      release();
    });
    this.open.add(sse);
    return sse;
  }

  /** `Last-Event-ID` (what `EventSource` sends when it reconnects) wins over `?lastEventId=`. */
  private lastEventId(resume: { header?: string; query?: string }): string | undefined {
    const header = resume.header?.trim();
    if (header !== undefined && header !== '') {
      if (!LAST_EVENT_ID.test(header)) {
        throw new BadRequestException('Last-Event-ID must be a whole number of at most 18 digits');
      }
      return header;
    }
    return resume.query;
  }
}

function tenantOf(req: StreamRequest): AuthenticatedTenant {
  if (!req.tenant) throw new Error('stream route without StreamAuthGuard');
  return req.tenant;
}
