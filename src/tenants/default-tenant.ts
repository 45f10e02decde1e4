import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigService } from '../config/config.service';
import { ensureDataDir } from '../config/data-dir';
import { newId } from '../common/ids';
import { PrismaService } from '../database/prisma.service';
import { isUniqueViolation } from '../database/unique-violation';
import { UxcEndpoint } from '../uxc/uxc-endpoint';
import { generateWebhookSecret } from '../webhooks/webhook-signer';
import { API_KEY_PREFIX, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key';
import { TenantSecrets } from './tenant-secrets.service';

export const DEFAULT_TENANT_NAME = 'default';
export const LOCAL_API_KEY_FILE = 'default-api-key';

/**
 * The key row the environment manages has a fixed id, so a changed
 * RELAY_API_KEY replaces the old key instead of adding a second one.
 */
const ENV_KEY_ID = 'key_relay_api_key';
const LOCAL_KEY_ID = 'key_local_default';

/**
 * Creates or updates the `default` tenant at start: from UXC_AK + UXC_SK +
 * RELAY_API_KEY when set, or, in local mode, against the built-in simulator
 * with a generated API key kept under DATA_DIR. Idempotent across restarts.
 */
@Injectable()
export class DefaultTenant implements OnApplicationBootstrap {
  private readonly logger = new Logger(DefaultTenant.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly secrets: TenantSecrets,
    private readonly config: ConfigService,
    private readonly endpoint: UxcEndpoint,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensure();
  }

  async ensure(): Promise<void> {
    const { uxcAk, uxcSk, relayApiKey } = this.config.env;
    if (uxcAk && uxcSk && relayApiKey) {
      await this.upsert({ ak: uxcAk, sk: uxcSk }, relayApiKey, ENV_KEY_ID);
      this.logger.log(
        `tenant "${DEFAULT_TENANT_NAME}" configured from UXC_AK, UXC_SK and RELAY_API_KEY`,
      );
    } else if (this.config.localMode && this.endpoint.localCredential) {
      this.localKey = this.localApiKey();
      await this.upsert(this.endpoint.localCredential, this.localKey, LOCAL_KEY_ID);
    } else if (!this.config.env.adminToken && !(await this.anyTenant())) {
      this.logger.warn(
        'no tenant exists and ADMIN_TOKEN is not set: nobody can use this relay. Set ADMIN_TOKEN to create tenants with POST /v1/tenants, or UXC_AK, UXC_SK and RELAY_API_KEY for a default tenant',
      );
    }
  }

  private localKey: string | undefined;

  /**
   * The one place an API key is ever printed: local mode, on purpose, so a
   * newcomer can call the API at once. Straight to stdout, not the log; called
   * once the relay listens, so the hint never points at another process.
   */
  announce(url: string): void {
    if (this.localKey === undefined) return;
    process.stdout.write(
      `\nuxc-relay local mode: tenant "${DEFAULT_TENANT_NAME}" polls the built-in UXC simulator.\n` +
        `  API key: ${this.localKey}\n` +
        `  (kept in ${join(this.config.env.dataDir, LOCAL_API_KEY_FILE)})\n` +
        `  try: curl -H "Authorization: Bearer ${this.localKey}" ${url}/v1/subscriptions\n\n`,
    );
  }

  private async anyTenant(): Promise<boolean> {
    return (await this.prisma.tenant.findFirst({ select: { id: true } })) !== null;
  }

  private async upsert(
    credential: { ak: string; sk: string },
    apiKey: string,
    keyId: string,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.prisma.$transaction(async (tx) => {
          const tenant = await tx.tenant.upsert({
            where: { name: DEFAULT_TENANT_NAME },
            create: {
              id: newId('ten'),
              name: DEFAULT_TENANT_NAME,
              uxcAk: credential.ak,
              uxcSkEnc: this.secrets.seal(credential.sk),
              webhookSecretEnc: this.secrets.seal(generateWebhookSecret()),
            },
            update: { uxcAk: credential.ak, uxcSkEnc: this.secrets.seal(credential.sk) },
          });
          const hash = hashApiKey(apiKey);
          // the key may already exist under another id (created by the admin API)
          await tx.apiKey.deleteMany({ where: { hash, id: { not: keyId } } });
          await tx.apiKey.upsert({
            where: { id: keyId },
            create: { id: keyId, tenantId: tenant.id, hash, prefix: apiKeyPrefix(apiKey) },
            update: { tenantId: tenant.id, hash, prefix: apiKeyPrefix(apiKey) },
          });
        });
        return;
      } catch (error) {
        // another relay process starting at the same moment won the insert: go again
        if (!isUniqueViolation(error) || attempt >= 2) throw error;
      }
    }
  }

  private localApiKey(): string {
    const dir = this.config.env.dataDir;
    const file = join(dir, LOCAL_API_KEY_FILE);
    if (existsSync(file)) {
      const key = readFileSync(file, 'utf8').trim();
      if (key.startsWith(API_KEY_PREFIX) && key.length >= 20) return key;
      this.logger.warn(`${file} does not hold an API key: writing a new one`);
    }
    const key = generateApiKey();
    ensureDataDir(dir);
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    return key;
  }
}
