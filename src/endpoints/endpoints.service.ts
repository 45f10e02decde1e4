import { BadRequestException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ErrorBody, errorBody } from '../common/error-body';
import { newId } from '../common/ids';
import { decodeCursor, Page, PageQueryDto, pageLimit, toPage } from '../common/pagination';
import { flatten } from '../common/validation';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import type { Endpoint } from '../generated/prisma/client';
import { txRunner } from '../outbox/sql';
import { SubscriptionStore } from '../subscriptions/subscription.store';
import { TaskOutbox } from '../tasks/task-outbox';
import { TenantSecrets } from '../tenants/tenant-secrets.service';
import { checkCallbackUrl } from '../webhooks/callback-url-policy';
import { generateWebhookSecret } from '../webhooks/webhook-signer';
import {
  CreateEndpointDto,
  EndpointResponseDto,
  EndpointSecretDto,
  UpdateEndpointDto,
} from './dto/endpoint.dto';
import { TrackedTaskResponseDto, TrackTaskDto } from './dto/track-task.dto';
import { EndpointPatch, EndpointStore } from './endpoint.store';

/** What `POST /v1/tasks` answers for one task. */
export interface TrackResult {
  status: number;
  body: TrackedTaskResponseDto | ErrorBody;
}

/**
 * Endpoints (one URL for all of a tenant's tracked tasks) and the tasks
 * tracked for them. Each (endpoint, task) pair is carried by a subscription
 * row of its own, so every delivery rule (order, supersede, retries, 410,
 * the order hold) holds per endpoint and task as it does per subscription.
 */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly store: EndpointStore,
    private readonly subscriptions: SubscriptionStore,
    private readonly outbox: TaskOutbox,
    private readonly secrets: TenantSecrets,
    private readonly config: ConfigService,
  ) {}

  /**
   * A new endpoint with a secret of its own. It hears of the later events of
   * every task the tenant tracks that is still being polled.
   */
  async create(tenantId: string, dto: CreateEndpointDto): Promise<EndpointResponseDto> {
    await this.allowedUrl(dto.url);
    const row = await this.prisma.$transaction(async (tx) => {
      const sql = txRunner(tx);
      await this.store.lockTenant(sql, tenantId);
      const endpoint = await this.store.insert(sql, {
        id: newId('ep'),
        tenantId,
        url: dto.url,
        events: dto.events ?? [],
        description: dto.description ?? null,
        webhookSecretEnc: this.secrets.seal(generateWebhookSecret()),
      });
      await this.subscriptions.attachEndpoints(sql, tenantId, {
        endpointIds: [endpoint.id],
        unfinished: true,
      });
      return endpoint;
    });
    return toResponse(row);
  }

  async list(tenantId: string, query: PageQueryDto): Promise<Page<EndpointResponseDto>> {
    const limit = pageLimit(query);
    const after = query.cursor ? decodeCursor(query.cursor, { idPrefix: 'ep' }) : undefined;
    const rows = await this.prisma.endpoint.findMany({
      where: { tenantId, ...(after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    return toPage(rows, limit, (row) => row.id, toResponse);
  }

  async get(tenantId: string, id: string): Promise<EndpointResponseDto> {
    return toResponse(await this.find(tenantId, id));
  }

  /**
   * New url, filter or description for later deliveries; `state: "active"`
   * re-enables a disabled endpoint and sends what was held for it, in order;
   * `state: "disabled"` disables it by hand, holding what it had still to send.
   */
  async update(tenantId: string, id: string, dto: UpdateEndpointDto): Promise<EndpointResponseDto> {
    await this.find(tenantId, id);
    if (dto.url !== undefined) await this.allowedUrl(dto.url);
    const row = await this.prisma.$transaction(async (tx) => {
      const sql = txRunner(tx);
      // the state is read under the row lock the disable sweep takes: a sweep
      // that disables it meanwhile is seen (and undone by state: "active"),
      // never answered as active while it stays disabled
      const existing = await this.store.lockOne(sql, tenantId, id);
      if (!existing) throw new NotFoundException(`endpoint ${id} not found`);
      const reenable = dto.state === 'active' && existing.state === 'disabled';
      const disable = dto.state === 'disabled' && existing.state === 'active';
      const patch: EndpointPatch = {
        ...(dto.url !== undefined ? { url: dto.url } : {}),
        ...(dto.events !== undefined ? { events: dto.events ?? [] } : {}),
        ...(dto.description !== undefined ? { description: dto.description } : {}),
        ...(reenable ? { state: 'active' as const } : {}),
        ...(disable ? { state: 'disabled' as const } : {}),
      };
      if (Object.keys(patch).length === 0) return existing;
      const updated = await this.store.patch(sql, id, patch);
      await this.subscriptions.patchEndpointRows(sql, id, { url: patch.url, events: patch.events });
      if (reenable) {
        const rows = await this.subscriptions.enableEndpointRows(sql, id);
        await this.outbox.releaseHeld(sql, rows);
      }
      if (disable) {
        await this.outbox.holdPending(sql, await this.subscriptions.disableEndpointRows(sql, id));
      }
      return updated;
    });
    return toResponse(row);
  }

  /** Deletes it: nothing more is sent to it, and its delivery history goes with it. */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.find(tenantId, id);
    await this.prisma.$transaction((tx) => this.store.remove(txRunner(tx), id));
  }

  async secret(tenantId: string, id: string): Promise<EndpointSecretDto> {
    const endpoint = await this.find(tenantId, id);
    return { secret: this.secrets.open(endpoint.webhookSecretEnc) };
  }

  /** A new secret; the old one keeps signing alongside it for WEBHOOK_SECRET_GRACE. */
  async rotateSecret(tenantId: string, id: string): Promise<EndpointSecretDto> {
    for (;;) {
      const endpoint = await this.find(tenantId, id);
      const secret = generateWebhookSecret();
      const rotated = await this.prisma.$transaction((tx) =>
        this.store.rotateSecret(
          txRunner(tx),
          id,
          endpoint.webhookSecretEnc,
          this.secrets.seal(secret),
          new Date(Date.now() + this.config.env.webhookSecretGraceMs),
        ),
      );
      if (rotated) return { secret };
    }
  }

  /** POST /v1/tasks: 201 when this call started tracking the sid, 200 when it was already. */
  async track(tenantId: string, dto: TrackTaskDto): Promise<TrackResult> {
    const [result] = await this.trackChecked(tenantId, [dto]);
    return result;
  }

  /** Up to 500 tasks, each answered as `track` would answer it. */
  async trackBatch(tenantId: string, items: unknown[]): Promise<TrackResult[]> {
    const results: TrackResult[] = new Array(items.length);
    const valid: { index: number; dto: TrackTaskDto }[] = [];
    await Promise.all(
      items.map(async (item, index) => {
        const checked = await validateItem(item);
        if ('problems' in checked) {
          results[index] = {
            status: HttpStatus.BAD_REQUEST,
            body: errorBody(HttpStatus.BAD_REQUEST, checked.problems),
          };
        } else valid.push({ index, dto: checked.dto });
      }),
    );
    const answered = await this.trackChecked(
      tenantId,
      valid.map(({ dto }) => dto),
    );
    valid.forEach(({ index }, i) => (results[index] = answered[i]));
    return results;
  }

  /**
   * Tracks the tasks and joins them to every endpoint of the tenant, in one
   * transaction; an endpoint hears of a task's current state at once when the
   * task already has history. A sid given twice is tracked once, with the last
   * metadata given.
   */
  private async trackChecked(tenantId: string, dtos: TrackTaskDto[]): Promise<TrackResult[]> {
    if (dtos.length === 0) return [];
    const bySid = new Map<string, TrackTaskDto>();
    for (const dto of dtos) bySid.set(dto.sid, { ...bySid.get(dto.sid), ...dto });
    const tracked = await this.prisma.$transaction(async (tx) => {
      const sql = txRunner(tx);
      await this.store.lockTenant(sql, tenantId);
      const tasks = await this.outbox.trackForEndpoints(sql, tenantId, [...bySid.values()]);
      const withMetadata = [...bySid.values()].filter((dto) => dto.metadata !== undefined);
      for (const dto of withMetadata) {
        const task = tasks.find((t) => t.sid === dto.sid);
        if (task?.trackedBefore) {
          await this.subscriptions.setTrackedMetadata(sql, [task.id], dto.metadata!);
        }
      }
      const rows = await this.subscriptions.attachEndpoints(sql, tenantId, {
        taskIds: tasks.map((task) => task.id),
      });
      const withHistory = new Set(tasks.filter((t) => t.sequence > 0).map((t) => t.id));
      await this.outbox.enqueueCurrentStates(
        sql,
        rows
          .filter((row) => withHistory.has(row.taskId))
          .map((subscription) => ({ subscription, created: true })),
      );
      return tasks;
    });
    const now = new Date();
    const bySidTracked = new Map(tracked.map((task) => [task.sid, task]));
    return dtos.map((dto) => {
      const task = bySidTracked.get(dto.sid)!;
      return {
        status: task.trackedBefore ? HttpStatus.OK : HttpStatus.CREATED,
        body: {
          sid: task.sid,
          metadata: (task.metadata ?? {}) as Record<string, unknown>,
          trackedAt: task.trackedBefore ?? now,
        },
      };
    });
  }

  /** The endpoint, if it is this tenant's; a foreign id is as unknown as a missing one. */
  async find(tenantId: string, id: string): Promise<Endpoint> {
    const row = await this.prisma.endpoint.findFirst({ where: { id, tenantId } });
    if (!row) throw new NotFoundException(`endpoint ${id} not found`);
    return row;
  }

  /** The callback URL policy, with the field named as this API names it. */
  private async allowedUrl(url: string): Promise<void> {
    const verdict = await checkCallbackUrl(url, {
      allowPrivateNetworks: this.config.env.callbackAllowPrivateNetworks,
    });
    if (!verdict.ok) {
      throw new BadRequestException([verdict.reason.replace(/^callbackUrl\b/, 'url')]);
    }
  }
}

async function validateItem(
  item: unknown,
): Promise<{ dto: TrackTaskDto } | { problems: string[] }> {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { problems: ['request body must be a JSON object'] };
  }
  const dto = plainToInstance(TrackTaskDto, item);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) return { problems: flatten(errors).map((e) => e.message) };
  return { dto };
}

function toResponse(row: Endpoint): EndpointResponseDto {
  return {
    id: row.id,
    url: row.url,
    events: row.events.length > 0 ? row.events : null,
    description: row.description,
    state: row.state,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
