import { Injectable, NotFoundException } from '@nestjs/common';
import { newId } from '../common/ids';
import { decodeCursor, Page, pageLimit, toPage } from '../common/pagination';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import { isUniqueViolation } from '../database/unique-violation';
import { Prisma, Subscription } from '../generated/prisma/client';
import { TaskOutbox, Tx } from '../tasks/task-outbox';
import { allowedCallbackUrl } from './allowed-callback-url';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { ListSubscriptionsQueryDto } from './dto/list-subscriptions.query';
import { SubscriptionResponseDto } from './dto/subscription-response.dto';

export interface CreateSubscriptionResult {
  /** False when an existing subscription for `(sid, callbackUrl)` was answered. */
  created: boolean;
  subscription: SubscriptionResponseDto;
}

/** States a repeated registration brings back to life: the client clearly wants it again. */
const REVIVABLE_STATES = ['canceled', 'disabled'];

@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly outbox: TaskOutbox,
    private readonly config: ConfigService,
  ) {}

  /**
   * Idempotent on `(tenant, sid, callbackUrl)`. A new subscription makes its
   * task known to the poller and hears of the task's current state at once.
   * An existing one is answered as it is; a canceled or disabled one is
   * revived with the new events, metadata and includePhotoParameters.
   */
  async create(tenantId: string, dto: CreateSubscriptionDto): Promise<CreateSubscriptionResult> {
    await allowedCallbackUrl(dto.callbackUrl, this.config);

    for (let attempt = 0; ; attempt++) {
      try {
        return await this.prisma.$transaction((tx) => this.createIn(tx, tenantId, dto));
      } catch (error) {
        // a concurrent identical request inserted first: the next round finds its row
        if (!isUniqueViolation(error) || attempt >= 2) throw error;
      }
    }
  }

  async list(
    tenantId: string,
    query: ListSubscriptionsQueryDto,
  ): Promise<Page<SubscriptionResponseDto>> {
    const limit = pageLimit(query);
    const after = query.cursor ? decodeCursor(query.cursor, { idPrefix: 'sub' }) : undefined;
    const rows = await this.prisma.subscription.findMany({
      where: {
        tenantId,
        ...(query.sid !== undefined ? { sid: query.sid } : {}),
        ...(query.state !== undefined ? { state: query.state } : {}),
        ...(after ? { id: { gt: after } } : {}),
      },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (row) => row.id,
      (row) => this.toResponse(row),
    );
  }

  async get(tenantId: string, id: string): Promise<SubscriptionResponseDto> {
    return this.toResponse(await this.find(tenantId, id));
  }

  /**
   * Cancels the subscription and its pending deliveries. When no active
   * subscription is left on the task, the task goes idle: nobody is
   * listening, so UXC is not polled for it any more.
   */
  async cancel(tenantId: string, id: string): Promise<SubscriptionResponseDto> {
    const existing = await this.find(tenantId, id);
    const row = await this.prisma.$transaction(async (tx) => {
      // the task row lock orders this against a concurrent subscribe on the same task
      await tx.$queryRaw`SELECT id FROM tasks WHERE id = ${existing.taskId} FOR UPDATE`;
      const canceled = await tx.subscription.update({
        where: { id: existing.id },
        data: { state: 'canceled' },
      });
      await this.outbox.cancelPending(tx, existing.id);
      const listeners = await tx.subscription.count({
        where: { taskId: existing.taskId, state: 'active' },
      });
      if (listeners === 0) {
        await tx.task.updateMany({
          where: { id: existing.taskId, tracking: 'active' },
          data: { tracking: 'idle', nextPollAt: null, updatedAt: new Date() },
        });
      }
      return canceled;
    });
    return this.toResponse(row);
  }

  /** The subscription, if it is this tenant's; a foreign id is as unknown as a missing one. */
  async find(tenantId: string, id: string): Promise<Subscription> {
    const row = await this.prisma.subscription.findFirst({ where: { id, tenantId } });
    if (!row) throw new NotFoundException(`subscription ${id} not found`);
    return row;
  }

  private async createIn(
    tx: Tx,
    tenantId: string,
    dto: CreateSubscriptionDto,
  ): Promise<CreateSubscriptionResult> {
    const existing = await tx.subscription.findUnique({
      where: { tenantId_sid_callbackUrl: { tenantId, sid: dto.sid, callbackUrl: dto.callbackUrl } },
    });
    if (existing && !REVIVABLE_STATES.includes(existing.state)) {
      return { created: false, subscription: this.toResponse(existing) };
    }
    const task = await this.outbox.track(tx, tenantId, dto.sid);
    const wanted = {
      events: dto.events ?? [],
      metadata: (dto.metadata ?? {}) as Prisma.InputJsonObject,
      includePhotoParameters: dto.includePhotoParameters ?? false,
    };
    const subscription = existing
      ? await tx.subscription.update({
          where: { id: existing.id },
          data: { ...wanted, state: 'active' },
        })
      : await tx.subscription.create({
          data: {
            id: newId('sub'),
            tenantId,
            taskId: task.id,
            sid: dto.sid,
            callbackUrl: dto.callbackUrl,
            ...wanted,
          },
        });
    await this.outbox.enqueueCurrentState(tx, task, subscription, { created: !existing });
    return { created: !existing, subscription: this.toResponse(subscription) };
  }

  private toResponse(row: Subscription): SubscriptionResponseDto {
    return {
      id: row.id,
      sid: row.sid,
      callbackUrl: row.callbackUrl,
      events: row.events.length > 0 ? row.events : null,
      metadata: row.metadata as Record<string, unknown>,
      includePhotoParameters: row.includePhotoParameters,
      state: row.state,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}
