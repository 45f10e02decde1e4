import { Webhook } from 'standardwebhooks';
import { SecretBox } from '../src/tenants/secret-box';
import { TenantNotFoundError, TenantSecrets } from '../src/tenants/tenant-secrets.service';
import { buildWebhookHeaders } from '../src/webhooks/webhook-signer';
import { createTestApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { createTenant } from './support/factories';

describe('TenantSecrets', () => {
  let relay: TestApp;
  let secrets: TenantSecrets;

  beforeAll(async () => {
    relay = await createTestApp(await createTestDatabase(), { WEBHOOK_SECRET_GRACE: '1h' });
    secrets = relay.app.get(TenantSecrets);
  });
  afterAll(() => relay.close());

  it('decrypts the UXC credential from a row or an id', async () => {
    const { tenant, uxcAk, uxcSk } = await createTenant(relay);
    expect(secrets.uxcCredential(tenant)).toEqual({ ak: uxcAk, sk: uxcSk });
    expect(await secrets.uxcCredentialOf(tenant.id)).toEqual({ ak: uxcAk, sk: uxcSk });
    expect(tenant.uxcSkEnc).not.toContain(uxcSk);
  });

  it('signs with the current secret, and with the previous one only within the grace period', async () => {
    const { tenant, webhookSecret } = await createTenant(relay);
    expect(await secrets.signingSecrets(tenant.id)).toEqual([webhookSecret]);

    const rotatedAt = new Date();
    const next = await secrets.rotateWebhookSecret(tenant.id, rotatedAt);
    expect(next).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(next).not.toBe(webhookSecret);
    expect(await secrets.currentWebhookSecret(tenant.id)).toBe(next);
    expect(await secrets.signingSecrets(tenant.id)).toEqual([next, webhookSecret]);

    const row = await relay.prisma.tenant.findUniqueOrThrow({ where: { id: tenant.id } });
    expect(row.previousSecretUntil?.getTime()).toBe(rotatedAt.getTime() + 3_600_000);
    expect(await secrets.signingSecrets(row, new Date(rotatedAt.getTime() + 3_599_000))).toEqual([
      next,
      webhookSecret,
    ]);
    expect(await secrets.signingSecrets(row, new Date(rotatedAt.getTime() + 3_600_001))).toEqual([
      next,
    ]);

    // a receiver holding either secret verifies a message signed during the grace
    const body = JSON.stringify({ type: 'webhook.test' });
    const headers = buildWebhookHeaders('msg_1', body, await secrets.signingSecrets(row));
    for (const secret of [next, webhookSecret]) {
      expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
    }
    expect(new SecretBox(relay.config.encryptionKey).open(row.previousSecretEnc!)).toBe(
      webhookSecret,
    );
  });

  it('names an unknown tenant with a plain error', async () => {
    await expect(secrets.signingSecrets('ten_missing')).rejects.toBeInstanceOf(TenantNotFoundError);
  });
});
