import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { newId } from '../common/ids';
import { decodeCursor, Page, PageQueryDto, pageLimit, toPage } from '../common/pagination';
import { PrismaService } from '../database/prisma.service';
import { DeliveryStore } from '../outbox/delivery.store';
import { hostKey } from '../outbox/host-key';
import { txRunner } from '../outbox/sql';
import type { Delivery, DeliveryAttempt, Prisma } from '../generated/prisma/client';
import { DeliveryListQueryDto } from './dto/delivery-list-query.dto';
import {
  DeliveryAttemptDto,
  DeliveryDetailDto,
  DeliveryResponseDto,
} from './dto/delivery-response.dto';
import type { RedeliverDto } from './dto/redeliver.dto';

type DeliveryWithLast = Delivery & { attemptLog: DeliveryAttempt[] };

/** Reads what the dispatcher records, and queues a delivery again by hand. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly store: DeliveryStore,
  ) {}

  async listForSubscription(
    tenantId: string,
    subscriptionId: string,
    query: PageQueryDto,
  ): Promise<Page<DeliveryResponseDto>> {
    // the rows that carry an endpoint's deliveries are listed as the endpoint's
    const subscription = await this.prisma.subscription.findFirst({
      where: { id: subscriptionId, tenantId, endpointId: null },
      select: { id: true },
    });
    if (!subscription) throw new NotFoundException(`subscription ${subscriptionId} not found`);
    return this.page({ subscriptionId }, query);
  }

  async listForEndpoint(
    tenantId: string,
    endpointId: string,
    query: PageQueryDto,
  ): Promise<Page<DeliveryResponseDto>> {
    const endpoint = await this.prisma.endpoint.findFirst({
      where: { id: endpointId, tenantId },
      select: { id: true },
    });
    if (!endpoint) throw new NotFoundException(`endpoint ${endpointId} not found`);
    return this.page({ subscription: { endpointId } }, query);
  }

  /**
   * One page of deliveries by id: oldest first (a subscription's or an
   * endpoint's), or newest first (the tenant's, for an operator's scan).
   */
  private async page(
    where: Prisma.DeliveryWhereInput,
    query: PageQueryDto,
    order: 'asc' | 'desc' = 'asc',
  ): Promise<Page<DeliveryResponseDto>> {
    const limit = pageLimit(query);
    const from = query.cursor ? decodeCursor(query.cursor, { idPrefix: 'msg' }) : undefined;
    const rows = await this.prisma.delivery.findMany({
      where: { ...where, ...(from ? { id: order === 'asc' ? { gt: from } : { lt: from } } : {}) },
      orderBy: { id: order },
      take: limit + 1,
      include: { attemptLog: { orderBy: { at: 'desc' }, take: 1 } },
    });
    return toPage(
      rows,
      limit,
      (row) => row.id,
      (row) => this.toResponse(row),
    );
  }

  /**
   * Every delivery of the tenant, newest first, optionally of one state and
   * event type: what an operator scans for failures across subscriptions.
   */
  async listForTenant(
    tenantId: string,
    query: DeliveryListQueryDto,
  ): Promise<Page<DeliveryResponseDto>> {
    return this.page(
      {
        subscription: { tenantId },
        ...(query.state ? { state: query.state } : {}),
        ...(query.eventType ? { eventType: query.eventType } : {}),
      },
      query,
      'desc',
    );
  }

  async get(tenantId: string, id: string): Promise<DeliveryDetailDto> {
    const row = await this.prisma.delivery.findFirst({
      where: { id, subscription: { tenantId } },
      include: { attemptLog: { orderBy: [{ at: 'asc' }, { id: 'asc' }] } },
    });
    if (!row) throw this.notFound(id);
    const summary = this.toResponse({ ...row, attemptLog: row.attemptLog.slice(-1) });
    return {
      ...summary,
      attempts: row.attemptLog.map((attempt) => this.toAttempt(attempt)),
      payload: JSON.parse(row.payload) as unknown,
    };
  }

  /**
   * One more attempt, with the same id and so the same `webhook-id`: the
   * delivery is pending again and due now, whatever state it ended in. One
   * already pending is only moved forward; one in flight is left alone.
   * `asNew`: a new delivery of the same event (same body, new id, so a new
   * `webhook-id`) is queued instead, and the answer is that one.
   */
  async redeliver(
    tenantId: string,
    id: string,
    dto: RedeliverDto = {},
  ): Promise<DeliveryResponseDto> {
    const row = await this.prisma.delivery.findFirst({
      where: { id, subscription: { tenantId } },
      include: { subscription: { select: { state: true, callbackUrl: true } } },
    });
    if (!row) throw this.notFound(id);
    if (row.subscription.state === 'canceled') {
      throw new ConflictException(
        'the subscription is canceled: subscribe again to receive its deliveries',
      );
    }
    // a finished subscription has something to send again; a disabled one
    // (410) is asked once more, and stays disabled if it answers 410 again
    const lane = {
      subscriptionId: row.subscriptionId,
      host: hostKey(row.subscription.callbackUrl),
    };
    const sentId = dto.asNew ? newId('msg') : id;
    await this.prisma.$transaction((tx) =>
      dto.asNew
        ? this.store.resend(txRunner(tx), id, sentId, lane)
        : this.store.redeliver(txRunner(tx), id, lane),
    );
    const updated = await this.prisma.delivery.findUniqueOrThrow({
      where: { id: sentId },
      include: { attemptLog: { orderBy: { at: 'desc' }, take: 1 } },
    });
    return this.toResponse(updated);
  }

  private toResponse(row: DeliveryWithLast): DeliveryResponseDto {
    const last = row.attemptLog[row.attemptLog.length - 1];
    return {
      id: row.id,
      subscriptionId: row.subscriptionId,
      eventType: row.eventType,
      sequence: row.sequence,
      state: row.state,
      attemptCount: row.attempts,
      // an ended delivery has no next attempt, whatever the column last held
      nextAttemptAt: row.state === 'pending' ? row.nextAttemptAt : null,
      lastAttempt: last ? this.toAttempt(last) : null,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
    };
  }

  private toAttempt(row: DeliveryAttempt): DeliveryAttemptDto {
    return {
      at: row.at,
      statusCode: row.statusCode,
      durationMs: row.durationMs,
      error: row.error,
      responseHeaders: responseHeadersOf(row),
      responseBody: row.responseBody,
    };
  }

  private notFound(id: string): NotFoundException {
    return new NotFoundException(`delivery ${id} not found`);
  }
}

/**
 * The receiver's headers as the dispatcher recorded them (`{name: value}`,
 * names lower-case); null for attempts without an answer, or recorded before
 * headers were kept.
 */
function responseHeadersOf(row: DeliveryAttempt): Record<string, string> | null {
  const headers = (row as { responseHeaders?: unknown }).responseHeaders;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return null;
  return headers as Record<string, string>;
}
