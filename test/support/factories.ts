import { randomBytes } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { Subscription, TaskEvent, Tenant } from '../../src/generated/prisma/client';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../src/tenants/api-key';
import { SecretBox } from '../../src/tenants/secret-box';
import { TaskOutbox } from '../../src/tasks/task-outbox';
import { generateWebhookSecret } from '../../src/webhooks/webhook-signer';
import type { TestApp } from './app';

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

/** A subscription and its tracked task, as the API would leave them. */
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
  const outbox = relay.app.get(TaskOutbox);
  return relay.prisma.$transaction(async (tx) => {
    const task = await outbox.track(tx, tenant.id, input.sid);
    const subscription = await tx.subscription.create({
      data: {
        id: newId('sub'),
        tenantId: tenant.id,
        taskId: task.id,
        sid: input.sid,
        callbackUrl: input.callbackUrl,
        events: input.events ?? [],
        metadata: (input.metadata ?? {}) as object,
        includePhotoParameters: input.includePhotoParameters ?? false,
      },
    });
    await outbox.enqueueCurrentState(tx, task, subscription);
    return subscription;
  });
}

/**
 * One observed change of a task, written as the poller writes it: the event,
 * the task's new state, and the deliveries of interested subscriptions, in
 * one transaction.
 */
export async function appendTaskEvent(
  relay: TestApp,
  tenant: Tenant,
  sid: string,
  change: {
    type: string;
    state?: string;
    status?: number;
    progress?: number;
    message?: string;
    outputResult?: string[];
    errNo?: number;
    errMsg?: string;
    tracking?: string;
  },
): Promise<TaskEvent> {
  const outbox = relay.app.get(TaskOutbox);
  return relay.prisma.$transaction(async (tx) => {
    const before = await tx.task.update({
      where: { tenantId_sid: { tenantId: tenant.id, sid } },
      data: { sequence: { increment: 1 } },
    });
    const event = await tx.taskEvent.create({
      data: {
        taskId: before.id,
        sequence: before.sequence,
        type: change.type,
        state: change.state ?? before.state,
        status: change.status ?? before.status,
        previousState: before.state,
        previousStatus: before.status,
        progress: change.progress ?? before.progress,
        message: change.message ?? before.message,
        outputResult: change.outputResult ?? undefined,
        errNo: change.errNo,
        errMsg: change.errMsg,
      },
    });
    const task = await tx.task.update({
      where: { id: before.id },
      data: {
        state: event.state,
        status: event.status,
        progress: event.progress,
        message: event.message,
        outputResult: change.outputResult ?? undefined,
        tracking: change.tracking ?? before.tracking,
        lastPolledAt: new Date(),
        updatedAt: new Date(),
      },
    });
    await outbox.enqueueForEvent(tx, task, event);
    return event;
  });
}
