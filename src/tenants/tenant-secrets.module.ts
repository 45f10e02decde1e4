import { Global, Module } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { SecretBox } from './secret-box';
import { TenantSecrets } from './tenant-secrets.service';

/**
 * Global, so the poller (UXC credentials) and the dispatcher (signing secrets)
 * inject `TenantSecrets` without depending on the tenants API.
 */
@Global()
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
