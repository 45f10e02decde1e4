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
import { PrismaService } from '../database/prisma.service';
import { isUniqueViolation } from '../database/unique-violation';
import { Prisma, Subscription, Task } from '../generated/prisma/client';
import { TaskOutbox, Tx } from '../tasks/task-outbox';
import { checkCallbackUrl } from '../webhooks/callback-url-policy';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { ListSubscriptionsQueryDto } from './dto/list-subscriptions.query';
import { SubscriptionResponseDto } from './dto/subscription-response.dto';
import { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import { RegistrationQueue } from './registration-queue';
import { differingFields } from './subscription-fields';

/** What `POST /v1/subscriptions` answers for one registration. */
export interface RegistrationResult {
  status: number;
  body: SubscriptionResponseDto | ErrorBody;
}

interface Registration {
  tenantId: string;
  dto: CreateSubscriptionDto;
}

/** A registration that writes: a new subscription, or a canceled or disabled one revived. */
interface Write {
  index: number;
  registration: Registration;
  existing: Subscription | undefined;
}

/** States a repeated registration brings back to life: the client clearly wants it again. */
const REVIVABLE_STATES = ['canceled', 'disabled'];

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
   * task's current state. A canceled one stays canceled: POST it again.
   */
  async update(
    tenantId: string,
    id: string,
    dto: UpdateSubscriptionDto,
  ): Promise<SubscriptionResponseDto> {
    const existing = await this.find(tenantId, id);
    if (dto.state === 'active' && existing.state === 'canceled') {
      throw new ConflictException(
        `subscription ${id} is canceled: POST /v1/subscriptions with its sid and callbackUrl to subscribe again`,
      );
    }
    const reenable = dto.state === 'active' && existing.state === 'disabled';
    const data: Prisma.SubscriptionUpdateInput = {
      ...(dto.events !== undefined ? { events: dto.events ?? [] } : {}),
      ...(dto.metadata !== undefined ? { metadata: dto.metadata as Prisma.InputJsonObject } : {}),
      ...(reenable ? { state: 'active' } : {}),
    };
    if (Object.keys(data).length === 0) return toResponse(existing);
    const row = await this.prisma.$transaction(async (tx) => {
      const updated = await tx.subscription.update({ where: { id }, data });
      if (reenable) {
        const task = await this.outbox.track(tx, tenantId, existing.sid);
        const now = new Date();
        await tx.delivery.updateMany({
          where: { subscriptionId: id, state: 'held' },
          data: { state: 'pending', nextAttemptAt: now, updatedAt: now },
        });
        await this.outbox.enqueueCurrentState(tx, task, updated, { created: false });
      }
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
    return toResponse(row);
  }

  /** The subscription, if it is this tenant's; a foreign id is as unknown as a missing one. */
  async find(tenantId: string, id: string): Promise<Subscription> {
    const row = await this.prisma.subscription.findFirst({ where: { id, tenantId } });
    if (!row) throw new NotFoundException(`subscription ${id} not found`);
    return row;
  }

  /**
   * Registers valid requests together: the callback URLs are checked, the
   * existing subscriptions read in one query, and everything that writes goes
   * in one transaction, new subscriptions in one statement.
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
        // a concurrent registration of the same subscription, or two batches
        // locking the same tasks: the next round reads what won
        if (!isRetryable(error) || attempt >= 3) throw error;
      }
    }
  }

  private async registerChecked(
    items: Registration[],
    results: (RegistrationResult | undefined)[],
  ): Promise<RegistrationResult[]> {
    const open = items.flatMap((registration, index) =>
      results[index] ? [] : [{ index, registration }],
    );
    const existing = await this.findExisting(open.map(({ registration }) => registration));
    const writes: Write[] = [];
    /** Items repeating an earlier item's key: answered from what the first became. */
    const repeats: { index: number; registration: Registration; key: string }[] = [];
    const writing = new Set<string>();
    for (const { index, registration } of open) {
      const { tenantId, dto } = registration;
      const key = keyOf(tenantId, dto.sid, dto.callbackUrl);
      const found = existing.get(key);
      if (writing.has(key)) repeats.push({ index, registration, key });
      else if (found && !REVIVABLE_STATES.includes(found.state)) {
        results[index] = answerExisting(found, dto);
      } else {
        writing.add(key);
        writes.push({ index, registration, existing: found });
      }
    }
    if (writes.length > 0) {
      const written = await this.prisma.$transaction((tx) => this.write(tx, writes), {
        maxWait: 10_000,
        timeout: 60_000,
      });
      const lost: Write[] = [];
      for (const write of writes) {
        const row = written.get(write.index);
        if (row) {
          results[write.index] = {
            status: write.existing ? HttpStatus.OK : HttpStatus.CREATED,
            body: toResponse(row),
          };
          const { tenantId, dto } = write.registration;
          existing.set(keyOf(tenantId, dto.sid, dto.callbackUrl), row);
        } else lost.push(write);
      }
      // inserted by a concurrent request between our read and our insert
      if (lost.length > 0) {
        const winners = await this.findExisting(lost.map((write) => write.registration));
        for (const write of lost) {
          const { tenantId, dto } = write.registration;
          const key = keyOf(tenantId, dto.sid, dto.callbackUrl);
          const winner = winners.get(key);
          if (!winner) throw new Error(`subscription ${key} neither inserted nor found`);
          existing.set(key, winner);
          results[write.index] = answerExisting(winner, dto);
        }
      }
    }
    for (const { index, registration, key } of repeats) {
      results[index] = answerExisting(existing.get(key)!, registration.dto);
    }
    return results as RegistrationResult[];
  }

  /** Returns the row each write produced, by item index; missing when a concurrent insert won. */
  private async write(tx: Tx, writes: Write[]): Promise<Map<number, Subscription>> {
    // one lock order for every batch, so two batches on the same tasks never deadlock
    const ordered = [...writes].sort((a, b) =>
      compare(
        `${a.registration.tenantId}\u0000${a.registration.dto.sid}`,
        `${b.registration.tenantId}\u0000${b.registration.dto.sid}`,
      ),
    );
    const tasks = new Map<string, Task>();
    for (const { registration } of ordered) {
      const taskKey = `${registration.tenantId}\u0000${registration.dto.sid}`;
      if (!tasks.has(taskKey)) {
        tasks.set(
          taskKey,
          await this.outbox.track(tx, registration.tenantId, registration.dto.sid),
        );
      }
    }
    const taskOf = (r: Registration): Task => tasks.get(`${r.tenantId}\u0000${r.dto.sid}`)!;
    const written = new Map<number, Subscription>();
    for (const write of ordered) {
      if (!write.existing) continue;
      written.set(
        write.index,
        await tx.subscription.update({
          where: { id: write.existing.id },
          data: { ...wantedFields(write.registration.dto), state: 'active' },
        }),
      );
    }
    const fresh = ordered.filter((write) => !write.existing);
    const inserted = await insertSubscriptions(
      tx,
      fresh.map((write) => ({
        registration: write.registration,
        taskId: taskOf(write.registration).id,
      })),
    );
    for (const write of fresh) {
      const { tenantId, dto } = write.registration;
      const row = inserted.get(keyOf(tenantId, dto.sid, dto.callbackUrl));
      if (row) written.set(write.index, row);
    }
    for (const write of ordered) {
      const row = written.get(write.index);
      const task = taskOf(write.registration);
      // a task without history has no current state to send: the common case
      // of a new sid, and one statement less per registration
      if (!row || task.sequence === 0) continue;
      await this.outbox.enqueueCurrentState(tx, task, row, { created: !write.existing });
    }
    return written;
  }

  /** The subscriptions these registrations name, by key, in one query. */
  private async findExisting(registrations: Registration[]): Promise<Map<string, Subscription>> {
    const found = new Map<string, Subscription>();
    if (registrations.length === 0) return found;
    const wanted = new Set(
      registrations.map(({ tenantId, dto }) => keyOf(tenantId, dto.sid, dto.callbackUrl)),
    );
    const sidsByTenant = new Map<string, Set<string>>();
    for (const { tenantId, dto } of registrations) {
      if (!sidsByTenant.has(tenantId)) sidsByTenant.set(tenantId, new Set());
      sidsByTenant.get(tenantId)!.add(dto.sid);
    }
    const rows = await this.prisma.subscription.findMany({
      where: {
        OR: [...sidsByTenant].map(([tenantId, sids]) => ({ tenantId, sid: { in: [...sids] } })),
      },
    });
    for (const row of rows) {
      const key = keyOf(row.tenantId, row.sid, row.callbackUrl);
      if (wanted.has(key)) found.set(key, row);
    }
    return found;
  }
}

/** New subscriptions in one statement; a row that a concurrent insert won is left out. */
async function insertSubscriptions(
  tx: Tx,
  rows: { registration: Registration; taskId: string }[],
): Promise<Map<string, Subscription>> {
  const inserted = new Map<string, Subscription>();
  if (rows.length === 0) return inserted;
  const column = <T>(pick: (row: { registration: Registration; taskId: string }) => T): T[] =>
    rows.map(pick);
  const returned = await tx.$queryRaw<Subscription[]>`
    INSERT INTO subscriptions
      (id, tenant_id, task_id, sid, callback_url, events, metadata, include_photo_parameters,
       state, created_at, updated_at)
    SELECT r.id, r.tenant_id, r.task_id, r.sid, r.callback_url,
           ARRAY(SELECT jsonb_array_elements_text(r.events::jsonb)), r.metadata::jsonb, r.photo,
           'active', now(), now()
    FROM unnest(
      ${column(() => newId('sub'))}::text[],
      ${column((row) => row.registration.tenantId)}::text[],
      ${column((row) => row.taskId)}::text[],
      ${column((row) => row.registration.dto.sid)}::text[],
      ${column((row) => row.registration.dto.callbackUrl)}::text[],
      ${column((row) => JSON.stringify(wantedFields(row.registration.dto).events))}::text[],
      ${column((row) => JSON.stringify(wantedFields(row.registration.dto).metadata))}::text[],
      ${column((row) => wantedFields(row.registration.dto).includePhotoParameters)}::boolean[]
    ) AS r(id, tenant_id, task_id, sid, callback_url, events, metadata, photo)
    ON CONFLICT (tenant_id, sid, callback_url) DO NOTHING
    RETURNING id, tenant_id AS "tenantId", task_id AS "taskId", sid, callback_url AS "callbackUrl",
      events, metadata, include_photo_parameters AS "includePhotoParameters", state,
      created_at AS "createdAt", updated_at AS "updatedAt"`;
  for (const row of returned) inserted.set(keyOf(row.tenantId, row.sid, row.callbackUrl), row);
  return inserted;
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

function isRetryable(error: unknown): boolean {
  return (
    isUniqueViolation(error) ||
    (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2034') ||
    (error instanceof Error && /deadlock detected|40P01/.test(error.message))
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
