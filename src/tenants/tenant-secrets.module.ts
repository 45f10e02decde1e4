import { Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { SecretBox } from './secret-box';
import { TenantSecrets } from './tenant-secrets.service';

/**
 * On its own, so the poller (UXC credentials) and the dispatcher (signing
 * secrets) import `TenantSecrets` without depending on the tenants API.
 */
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => new SecretBox(config.encryptionKey),
    },
    TenantSecrets,
  ],
  exports: [TenantSecrets],
})
export class TenantSecretsModule {}
