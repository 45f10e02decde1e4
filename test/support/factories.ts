import { randomBytes } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { Subscription, Tenant } from '../../src/generated/prisma/client';
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
