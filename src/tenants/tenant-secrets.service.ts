import { Injectable } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import type { Tenant } from '../generated/prisma/client';
import type { UxcCredential } from '../uxc/uxc-outcome';
import { generateWebhookSecret } from '../webhooks/webhook-signer';
import { SecretBox } from './secret-box';

/** The columns that hold a tenant's sealed secrets. */
export type TenantSecretColumns = Pick<
  Tenant,
  'id' | 'uxcAk' | 'uxcSkEnc' | 'webhookSecretEnc' | 'previousSecretEnc' | 'previousSecretUntil'
>;

/** A tenant id that names no tenant: a plain error, so background workers can handle it. */
export class TenantNotFoundError extends Error {
  constructor(readonly tenantId: string) {
    super(`tenant ${tenantId} does not exist`);
    this.name = 'TenantNotFoundError';
  }
}

/**
 * The one place a tenant's secrets are sealed and opened: the UXC secret key
 * the poller signs in with, and the webhook signing secrets the dispatcher and
 * the test endpoint sign with.
 */
/** Opened UXC secret keys kept at most; past it the memo starts over. */
const OPENED_SK_MAX = 10_000;

@Injectable()
export class TenantSecrets {
  /**
   * UXC secret keys opened, by their sealed value: every poll signs with its
   * tenant's key, and opening it (AES-GCM) each time was a poll's cost for
   * nothing. A key changed in the database has another sealed value.
   */
  private readonly openedSk = new Map<string, string>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly box: SecretBox,
    private readonly config: ConfigService,
  ) {}

  /**
   * The secrets a webhook of this tenant is signed with: the current one
   * first, then the rotated-out one while its grace period lasts.
   */
  async signingSecrets(tenant: string | TenantSecretColumns, now = new Date()): Promise<string[]> {
    const row = typeof tenant === 'string' ? await this.load(tenant) : tenant;
    const secrets = [this.box.open(row.webhookSecretEnc)];
    if (row.previousSecretEnc && row.previousSecretUntil && row.previousSecretUntil > now) {
      secrets.push(this.box.open(row.previousSecretEnc));
    }
    return secrets;
  }

  /** The tenant's current signing secret, `whsec_…`. */
  async currentWebhookSecret(tenantId: string): Promise<string> {
    return this.box.open((await this.load(tenantId)).webhookSecretEnc);
  }

  /**
   * A new signing secret; the old one keeps signing alongside it for
   * WEBHOOK_SECRET_GRACE so receivers can switch without losing a message.
   */
  async rotateWebhookSecret(tenantId: string, now = new Date()): Promise<string> {
    // compare-and-set: of two rotations at once, the loser retries on the
    // winner's secret, so the secret rotated out is always the one receivers had
    for (;;) {
      const row = await this.load(tenantId);
      const secret = generateWebhookSecret();
      const { count } = await this.prisma.tenant.updateMany({
        where: { id: row.id, webhookSecretEnc: row.webhookSecretEnc },
        data: {
          webhookSecretEnc: this.box.seal(secret),
          previousSecretEnc: row.webhookSecretEnc,
          previousSecretUntil: new Date(now.getTime() + this.config.env.webhookSecretGraceMs),
        },
      });
      if (count === 1) return secret;
    }
  }

  /** The tenant's UXC credential, decrypted, from a row already at hand. */
  uxcCredential(tenant: Pick<Tenant, 'uxcAk' | 'uxcSkEnc'>): UxcCredential {
    let sk = this.openedSk.get(tenant.uxcSkEnc);
    if (sk === undefined) {
      sk = this.box.open(tenant.uxcSkEnc);
      if (this.openedSk.size >= OPENED_SK_MAX) this.openedSk.clear();
      this.openedSk.set(tenant.uxcSkEnc, sk);
    }
    return { ak: tenant.uxcAk, sk };
  }

  /** The tenant's UXC credential, decrypted, by tenant id. */
  async uxcCredentialOf(tenantId: string): Promise<UxcCredential> {
    return this.uxcCredential(await this.load(tenantId));
  }

  /** Opens one sealed secret column value (the dispatcher keeps what it opened). */
  open(ciphertext: string): string {
    return this.box.open(ciphertext);
  }

  /** Ciphertext for a new secret column value. */
  seal(plaintext: string): string {
    return this.box.seal(plaintext);
  }

  private async load(tenantId: string): Promise<TenantSecretColumns> {
    const row = await this.prisma.tenant.findUnique({
      where: { id: tenantId },
      select: {
        id: true,
        uxcAk: true,
        uxcSkEnc: true,
        webhookSecretEnc: true,
        previousSecretEnc: true,
        previousSecretUntil: true,
      },
    });
    if (!row) throw new TenantNotFoundError(tenantId);
    return row;
  }
}
