import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { newId } from '../common/ids';
import { PrismaService } from '../database/prisma.service';
import type { Recovery } from '../generated/prisma/client';
import { DeliveryStore } from '../outbox/delivery.store';
import { txRunner } from '../outbox/sql';
import { RecoverDto, RecoveryAcceptedDto, RecoveryResponseDto } from './dto/recovery.dto';
import { RecoveryStore } from './recovery.store';

/**
 * `POST …/recover` queues a job; RecoveryWorker runs it in the background.
 * The caller has already checked that the subscription or endpoint is the tenant's.
 */
@Injectable()
export class RecoveriesService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly store: RecoveryStore,
    private readonly deliveries: DeliveryStore,
  ) {}

  async start(
    tenantId: string,
    target: { subscriptionId: string } | { endpointId: string },
    dto: RecoverDto,
  ): Promise<RecoveryAcceptedDto> {
    const window = recoveryWindow(dto);
    const row = await this.prisma.$transaction((tx) =>
      this.store.insert(txRunner(tx), {
        id: newId('rcv'),
        tenantId,
        subscriptionId: 'subscriptionId' in target ? target.subscriptionId : null,
        endpointId: 'endpointId' in target ? target.endpointId : null,
        ...window,
      }),
    );
    return { id: row.id };
  }

  async get(tenantId: string, id: string): Promise<RecoveryResponseDto> {
    const row = await this.prisma.recovery.findFirst({ where: { id, tenantId } });
    if (!row) throw new NotFoundException(`recovery ${id} not found`);
    const counts = await this.prisma.$transaction((tx) =>
      this.deliveries.recoveryCounts(txRunner(tx), id),
    );
    return toResponse(row, counts);
  }
}

/** since and until as dates, since before until, or a 400 naming the field. */
export function recoveryWindow(dto: RecoverDto, now = new Date()): { since: Date; until: Date } {
  const since = new Date(dto.since);
  const until = dto.until !== undefined ? new Date(dto.until) : now;
  if (Number.isNaN(since.getTime()))
    throw new BadRequestException(['since must be an ISO 8601 date']);
  if (Number.isNaN(until.getTime()))
    throw new BadRequestException(['until must be an ISO 8601 date']);
  if (since >= until) {
    throw new BadRequestException([
      dto.until !== undefined ? 'until must be after since' : 'since must be in the past',
    ]);
  }
  return { since, until };
}

function toResponse(row: Recovery, counts: Record<string, number>): RecoveryResponseDto {
  const pending = counts.pending ?? 0;
  const succeeded = counts.succeeded ?? 0;
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return {
    id: row.id,
    state: row.state === 'queued' ? 'queued' : pending > 0 ? 'sending' : 'completed',
    subscriptionId: row.subscriptionId,
    endpointId: row.endpointId,
    since: row.since,
    until: row.until,
    total: Math.max(total, row.total),
    pending,
    succeeded,
    failed: total - pending - succeeded,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
  };
}
