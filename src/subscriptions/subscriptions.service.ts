import {
  ConflictException,
  HttpException,
  HttpStatus,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { ErrorBody, errorBody } from '../common/error-body';
import { newId } from '../common/ids';
import { decodeCursor, Page, pageLimit, toPage } from '../common/pagination';
import { flatten } from '../common/validation';
import { ConfigService } from '../config/config.service';
import { DatabasePool } from '../database/database-pool';
import { PrismaService } from '../database/prisma.service';
import { isUniqueViolation } from '../database/unique-violation';
import { Prisma, Subscription } from '../generated/prisma/client';
import { inPgTransaction, SqlRunner, txRunner } from '../outbox/sql';
import { TaskOutbox } from '../tasks/task-outbox';
import { goIdleIfUnsubscribed } from '../tasks/task.store';
import { checkCallbackUrl } from '../webhooks/callback-url-policy';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { ListSubscriptionsQueryDto } from './dto/list-subscriptions.query';
import { SubscriptionResponseDto } from './dto/subscription-response.dto';
import { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import { RegistrationQueue } from './registration-queue';
import { differingFields } from './subscription-fields';
import { SubscriptionPatch, SubscriptionStore } from './subscription.store';

/** What `POST /v1/subscriptions` answers for one registration. */
export interface RegistrationResult {
  status: number;
  body: SubscriptionResponseDto | ErrorBody;
}

interface Registration {
  tenantId: string;
  dto: CreateSubscriptionDto;
}

/** Registrations running at once; more wait and then share one transaction. */
const REGISTRATION_SLOTS = 4;
const QUEUED_BATCH_MAX = 100;

const keyOf = (tenantId: string, sid: string, callbackUrl: string): string =>
  `${tenantId}\u0000${sid}\u0000${callbackUrl}`;

@Injectable()
export class SubscriptionsService {
  private readonly queue = new RegistrationQueue<Registration, RegistrationResult>(
    (items) => this.register(items),
    REGISTRATION_SLOTS,
    QUEUED_BATCH_MAX,
  );

  constructor(
    private readonly prisma: PrismaService,
    private readonly database: DatabasePool,
    private readonly store: SubscriptionStore,
    private readonly outbox: TaskOutbox,
    private readonly config: ConfigService,
  ) {}

  /**
   * Idempotent on `(tenant, sid, callbackUrl)`: 201 for a new subscription,
   * which makes its task known to the poller and hears of the task's current
   * state at once; 200 with the existing one when the fields it states agree;
   * 409 pointing to PATCH when they differ. A canceled or disabled one is
   * revived with the fields given.
   */
  async create(tenantId: string, dto: CreateSubscriptionDto): Promise<RegistrationResult> {
    const result = await this.queue.submit({ tenantId, dto });
    if (result.status >= 400) throw new HttpException(result.body, result.status);
    return result;
  }

  /** Up to 500 registrations in one request, each answered as `create` would answer it. */
  async createBatch(tenantId: string, items: unknown[]): Promise<RegistrationResult[]> {
    const results: RegistrationResult[] = new Array(items.length);
    const valid: { index: number; dto: CreateSubscriptionDto }[] = [];
    await Promise.all(
      items.map(async (item, index) => {
        const checked = await validateItem(item);
        if ('problems' in checked)
          results[index] = refused(HttpStatus.BAD_REQUEST, checked.problems);
        else valid.push({ index, dto: checked.dto });
      }),
    );
    const answered = await this.register(valid.map(({ dto }) => ({ tenantId, dto })));
    valid.forEach(({ index }, i) => (results[index] = answered[i]));
    return results;
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
        // the rows that carry an endpoint's deliveries are the endpoint's, not subscriptions
        endpointId: null,
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
      (row) => toResponse(row),
    );
  }

  async get(tenantId: string, id: string): Promise<SubscriptionResponseDto> {
    return toResponse(await this.find(tenantId, id));
  }

  /**
   * Changes the filter or the metadata (later webhooks carry the new values),
   * and `state: "active"` re-enables a disabled subscription: its task is
   * polled again, deliveries held for it go out in order, and it hears of the
   * task's current state. `state: "disabled"` disables it by hand: what it
   * had still to send is held, never dropped. A canceled one stays
   * canceled: POST it again.
   */
  async update(
    tenantId: string,
    id: string,
    dto: UpdateSubscriptionDto,
  ): Promise<SubscriptionResponseDto> {
    const existing = await this.find(tenantId, id);
    if (dto.state !== undefined && existing.state === 'canceled') {
      throw new ConflictException(
        `subscription ${id} is canceled: POST /v1/subscriptions with its sid and callbackUrl to subscribe again`,
      );
    }
    const reenable = dto.state === 'active' && existing.state === 'disabled';
    const disable = dto.state === 'disabled' && existing.state !== 'disabled';
    const patch: SubscriptionPatch = {
      ...(dto.events !== undefined ? { events: dto.events ?? [] } : {}),
      ...(dto.metadata !== undefined ? { metadata: dto.metadata } : {}),
      ...(reenable ? { state: 'active' as const } : {}),
      ...(disable ? { state: 'disabled' as const } : {}),
    };
    if (Object.keys(patch).length === 0) return toResponse(existing);
    const row = await this.prisma.$transaction(async (tx) => {
      // the task first, as cancel and registration lock it, so a concurrent
      // cancel of this subscription waits instead of deadlocking
      const task = reenable ? await this.outbox.track(tx, tenantId, existing.sid) : undefined;
      const updated = await this.store.patch(txRunner(tx), id, patch);
      if (task) {
        await this.outbox.releaseHeld(txRunner(tx), [updated]);
        await this.outbox.enqueueCurrentState(tx, task, updated, { created: false });
      }
      if (disable) await this.outbox.holdPending(txRunner(tx), [updated.id]);
      return updated;
    });
    return toResponse(row);
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
      const canceled = await this.store.cancel(txRunner(tx), existing.id);
      await this.outbox.cancelPending(tx, existing.id);
      await goIdleIfUnsubscribed(tx, existing.taskId, new Date());
      return canceled;
    });
    return toResponse(row);
  }

  /** The subscription, if it is this tenant's; a foreign id is as unknown as a missing one. */
  async find(tenantId: string, id: string): Promise<Subscription> {
    const row = await this.prisma.subscription.findFirst({
      where: { id, tenantId, endpointId: null },
    });
    if (!row) throw new NotFoundException(`subscription ${id} not found`);
    return row;
  }

  /**
   * Registers valid requests together: the callback URLs are checked, then
   * one transaction on one pool client writes them all in one statement
   * (tasks tracked, subscriptions inserted or revived, live ones read), and
   * only subscribers of tasks that have history need more: their current state.
   */
  private async register(items: Registration[]): Promise<RegistrationResult[]> {
    const results: (RegistrationResult | undefined)[] = new Array(items.length);
    const allowPrivateNetworks = this.config.env.callbackAllowPrivateNetworks;
    await Promise.all(
      items.map(async ({ dto }, index) => {
        const verdict = await checkCallbackUrl(dto.callbackUrl, { allowPrivateNetworks });
        if (!verdict.ok) results[index] = refused(HttpStatus.BAD_REQUEST, [verdict.reason]);
      }),
    );
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.registerChecked(items, [...results]);
      } catch (error) {
        // two batches locking the same tasks, or a unique index racing:
        // the next round reads what won
        if (!isRetryable(error) || attempt >= 3) throw error;
      }
    }
  }

  private async registerChecked(
    items: Registration[],
    results: (RegistrationResult | undefined)[],
  ): Promise<RegistrationResult[]> {
    /** The first item of each key is written; items repeating it are answered from what it became. */
    const firsts: { index: number; registration: Registration }[] = [];
    const repeats: { index: number; registration: Registration; key: string }[] = [];
    const seen = new Set<string>();
    items.forEach((registration, index) => {
      if (results[index]) return;
      const { tenantId, dto } = registration;
      const key = keyOf(tenantId, dto.sid, dto.callbackUrl);
      if (seen.has(key)) repeats.push({ index, registration, key });
      else {
        seen.add(key);
        firsts.push({ index, registration });
      }
    });
    if (firsts.length === 0) return results as RegistrationResult[];
    const answers = await this.inTransaction(async (sql) => {
      const rows = await this.store.register(
        sql,
        firsts.map(({ registration: { tenantId, dto } }) => ({
          tenantId,
          sid: dto.sid,
          callbackUrl: dto.callbackUrl,
          ...wantedFields(dto),
          newSubscriptionId: newId('sub'),
          newTaskId: newId('task'),
        })),
      );
      const byIndex = new Map(rows.map((row) => [row.index, row]));
      // inserted by a concurrent request after our statement's snapshot
      const lost = firsts.filter((_, i) => !byIndex.has(i));
      const winners = new Map(
        (
          await this.store.findByKeys(
            sql,
            lost.map(({ registration: { tenantId, dto } }) => ({
              tenantId,
              sid: dto.sid,
              callbackUrl: dto.callbackUrl,
            })),
          )
        ).map((row) => [keyOf(row.tenantId, row.sid, row.callbackUrl), row]),
      );
      // a task without history has no current state to send: the common
      // case of a new sid, and no statement more
      await this.outbox.enqueueCurrentStates(
        sql,
        rows
          .filter((row) => row.outcome !== 'existing' && (row.taskSequence ?? 0) > 0)
          .map((row) => ({ subscription: row, created: row.outcome === 'inserted' })),
      );
      return { byIndex, winners };
    });
    const became = new Map<string, Subscription>();
    firsts.forEach(({ index, registration }, i) => {
      const { tenantId, dto } = registration;
      const key = keyOf(tenantId, dto.sid, dto.callbackUrl);
      const row = answers.byIndex.get(i);
      if (row && row.outcome !== 'existing') {
        results[index] = {
          status: row.outcome === 'inserted' ? HttpStatus.CREATED : HttpStatus.OK,
          body: toResponse(row),
        };
        became.set(key, row);
        return;
      }
      const found = row ?? answers.winners.get(key);
      if (!found) throw new Error(`subscription ${key} neither inserted nor found`);
      results[index] = answerExisting(found, dto);
      became.set(key, found);
    });
    for (const { index, registration, key } of repeats) {
      results[index] = answerExisting(became.get(key)!, registration.dto);
    }
    return results as RegistrationResult[];
  }

  /** Runs `work` in one transaction on one client of the shared pool. */
  private inTransaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return inPgTransaction(this.database.pool, work);
  }
}

function wantedFields(dto: CreateSubscriptionDto): {
  events: string[];
  metadata: Prisma.InputJsonObject;
  includePhotoParameters: boolean;
} {
  return {
    events: dto.events ?? [],
    metadata: (dto.metadata ?? {}) as Prisma.InputJsonObject,
    includePhotoParameters: dto.includePhotoParameters ?? false,
  };
}

/** An existing live subscription: 200 when the request agrees with it, else 409 naming PATCH. */
function answerExisting(existing: Subscription, dto: CreateSubscriptionDto): RegistrationResult {
  const differing = differingFields(existing, dto);
  if (differing.length === 0) return { status: HttpStatus.OK, body: toResponse(existing) };
  return {
    status: HttpStatus.CONFLICT,
    body: {
      ...errorBody(
        HttpStatus.CONFLICT,
        `subscription ${existing.id} already exists for this sid and callbackUrl with other ${differing.join(', ')}: change it with PATCH /v1/subscriptions/${existing.id}`,
      ),
      errors: differing.map((field) => ({
        field,
        message: `${field} differs from subscription ${existing.id}`,
      })),
    },
  };
}

function refused(status: number, problems: string[]): RegistrationResult {
  return { status, body: errorBody(status, problems) };
}

/** One batch item checked as the single route's pipe checks a body. */
async function validateItem(
  item: unknown,
): Promise<{ dto: CreateSubscriptionDto } | { problems: string[] }> {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { problems: ['request body must be a JSON object'] };
  }
  const dto = plainToInstance(CreateSubscriptionDto, item);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) return { problems: flatten(errors).map((e) => e.message) };
  return { dto };
}

/** pg's SQLSTATEs for a deadlock, a serialization failure and a unique violation. */
const RETRYABLE_SQLSTATES = ['40P01', '40001', '23505'];

function isRetryable(error: unknown): boolean {
  return (
    isUniqueViolation(error) ||
    RETRYABLE_SQLSTATES.includes((error as { code?: unknown } | null)?.code as string) ||
    (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2034') ||
    (error instanceof Error && /deadlock detected|40P01/.test(error.message))
  );
}

function toResponse(row: Subscription): SubscriptionResponseDto {
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
