import type { TaskState, TaskTracking } from '../../src/common/states';
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { Subscription, Task, TaskEvent, Tenant } from '../../src/generated/prisma/client';
import { SIMULATOR_STATUS } from '../../src/simulator/simulator.constants';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../src/tenants/api-key';
import { SecretBox } from '../../src/tenants/secret-box';
import { DatabasePool } from '../../src/database/database-pool';
import { pgRunner } from '../../src/outbox/sql';
import { SubscriptionStore } from '../../src/subscriptions/subscription.store';
import { TaskHistory } from '../../src/tasks/task-history';
import { TaskOutbox } from '../../src/tasks/task-outbox';
import { generateWebhookSecret } from '../../src/webhooks/webhook-signer';
import { createTestApp, TestApp } from './app';
import { createTestDatabase } from './database';

export interface TenantFixture {
  tenant: Tenant;
  apiKey: string;
  webhookSecret: string;
  uxcAk: string;
  uxcSk: string;
}

/** A tenant with one API key, straight into the database. */
export async function createTenant(
  relay: TestApp,
  overrides: { name?: string; uxcAk?: string; uxcSk?: string } = {},
): Promise<TenantFixture> {
  const box = new SecretBox(relay.config.encryptionKey);
  const uxcAk = overrides.uxcAk ?? `ak-${randomBytes(4).toString('hex')}`;
  const uxcSk = overrides.uxcSk ?? `sk-${randomBytes(12).toString('hex')}`;
  const apiKey = generateApiKey();
  const webhookSecret = generateWebhookSecret();
  const tenant = await relay.prisma.tenant.create({
    data: {
      id: newId('ten'),
      name: overrides.name ?? `tenant-${randomBytes(4).toString('hex')}`,
      uxcAk,
      uxcSkEnc: box.seal(uxcSk),
      webhookSecretEnc: box.seal(webhookSecret),
      apiKeys: {
        create: { id: newId('key'), hash: hashApiKey(apiKey), prefix: apiKeyPrefix(apiKey) },
      },
    },
  });
  return { tenant, apiKey, webhookSecret, uxcAk, uxcSk };
}

/** The `Authorization` header of a tenant's API key, for supertest's `set`. */
export function bearer(fixture: TenantFixture): { Authorization: string } {
  return { Authorization: `Bearer ${fixture.apiKey}` };
}

/**
 * A relay on a fresh database with two tenants: `acme` acts, `other` checks
 * that it cannot see or touch acme's data.
 */
export async function createTwoTenantRelay(
  env: Record<string, string> = {},
): Promise<{ relay: TestApp; acme: TenantFixture; other: TenantFixture }> {
  const relay = await createTestApp(await createTestDatabase(), env);
  return { relay, acme: await createTenant(relay), other: await createTenant(relay) };
}

/**
 * A subscription and its tracked task, as the API would leave them: written
 * by the relay's own SubscriptionStore and TaskOutbox, in the registration's
 * statements, with the callback URL policy left out so tests may point
 * anywhere.
 */
export async function createSubscription(
  relay: TestApp,
  tenant: Tenant,
  input: {
    sid: string;
    callbackUrl: string;
    events?: string[];
    metadata?: Record<string, unknown>;
    includePhotoParameters?: boolean;
  },
): Promise<Subscription> {
  const [subscription] = await createSubscriptions(relay, tenant, [input]);
  return subscription;
}

/** Many subscriptions of one tenant at once (inputs must not repeat a sid and callbackUrl). */
export async function createSubscriptions(
  relay: TestApp,
  tenant: Tenant,
  inputs: {
    sid: string;
    callbackUrl: string;
    events?: string[];
    metadata?: Record<string, unknown>;
    includePhotoParameters?: boolean;
  }[],
): Promise<Subscription[]> {
  const store = relay.app.get(SubscriptionStore);
  const outbox = relay.app.get(TaskOutbox);
  const client = await relay.app.get(DatabasePool).pool.connect();
  try {
    await client.query('BEGIN');
    const sql = pgRunner(client);
    const rows = await store.register(
      sql,
      inputs.map((input) => ({
        tenantId: tenant.id,
        sid: input.sid,
        callbackUrl: input.callbackUrl,
        events: input.events ?? [],
        metadata: input.metadata ?? {},
        includePhotoParameters: input.includePhotoParameters ?? false,
        newSubscriptionId: newId('sub'),
        newTaskId: newId('task'),
      })),
    );
    if (rows.length !== inputs.length || rows.some((row) => row.outcome === 'existing')) {
      throw new Error('createSubscriptions: a subscription with one of these keys exists already');
    }
    await outbox.enqueueCurrentStates(
      sql,
      rows
        .filter((row) => (row.taskSequence ?? 0) > 0)
        .map((row) => ({ subscription: row, created: row.outcome === 'inserted' })),
    );
    await client.query('COMMIT');
    return rows
      .sort((a, b) => a.index - b.index)
      .map(({ index: _index, outcome: _outcome, taskSequence: _sequence, ...row }) => row);
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

export interface ObservedChange {
  type: string;
  /** the status code follows from the state (`SIMULATOR_STATUS`) unless given */
  state?: TaskState;
  status?: number;
  progress?: number;
  queueNum?: number;
  message?: string;
  outputResult?: string[];
  errNo?: number;
  errMsg?: string;
  /** the task's tracking after this event (`completed` once terminal) */
  tracking?: TaskTracking;
  /** when tracking ends (`now` by default once it is no longer `active`) */
  finishedAt?: Date | null;
  lastPolledAt?: Date;
  observedAt?: Date;
}

const STATUS_OF_STATE: Record<string, number> = SIMULATOR_STATUS;

export interface AppendedEvent {
  task: Task;
  event: TaskEvent;
  deliveries: number;
}

/**
 * One observed change of a task, written by the relay's own `TaskHistory` as
 * the poller writes it (the event, the task's new state, the deliveries of
 * interested subscriptions, in one transaction): for tests that drive the API
 * or the dispatcher without polling UXC.
 */
export async function appendTaskEvent(
  relay: TestApp,
  taskId: string,
  change: ObservedChange,
): Promise<AppendedEvent>;
/** The same, for the task a tenant registered under `sid`. */
export async function appendTaskEvent(
  relay: TestApp,
  tenant: Tenant,
  sid: string,
  change: ObservedChange,
): Promise<AppendedEvent>;
export async function appendTaskEvent(
  relay: TestApp,
  ...args: [string, ObservedChange] | [Tenant, string, ObservedChange]
): Promise<AppendedEvent> {
  const [where, change] =
    args.length === 2
      ? [{ id: args[0] }, args[1]]
      : [{ tenantId_sid: { tenantId: args[0].id, sid: args[1] } }, args[2]];
  const before = await relay.prisma.task.findUniqueOrThrow({ where });
  // TaskHistory writes only for the poller holding the task
  const owner = 'test';
  await relay.prisma.$executeRaw`
    UPDATE tasks SET locked_by = ${owner}, locked_until = now() + interval '1 minute'
    WHERE id = ${before.id}`;
  const now = new Date();
  const state = change.state ?? before.state;
  const status =
    change.status ??
    (change.state !== undefined ? STATUS_OF_STATE[change.state] : undefined) ??
    before.status;
  const progress = change.progress ?? before.progress;
  const queueNum = change.queueNum ?? before.queueNum;
  const message = change.message ?? before.message;
  const tracking = change.tracking ?? before.tracking;
  return relay.app.get(TaskHistory).append(
    { taskId: before.id, owner },
    {
      type: change.type,
      state,
      status,
      previousState: before.state,
      previousStatus: before.status,
      progress,
      queueNum,
      message,
      outputResult: change.outputResult,
      errNo: change.errNo,
      errMsg: change.errMsg,
      observedAt: change.observedAt ?? now,
    },
    {
      state,
      status,
      progress,
      queueNum,
      message,
      outputResult: change.outputResult,
      tracking,
      finishedAt:
        change.finishedAt !== undefined ? change.finishedAt : tracking === 'active' ? null : now,
      lastPolledAt: change.lastPolledAt ?? now,
      updatedAt: now,
    },
  );
}
