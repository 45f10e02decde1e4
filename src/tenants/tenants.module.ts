import { Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { DefaultTenant } from './default-tenant';
import { TenantAuthGuard } from './tenant-auth.guard';
import { TenantSecretsModule } from './tenant-secrets.module';
import { TenantSettingsController } from './tenant-settings.controller';
import { TenantSettingsService } from './tenant-settings.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';
import { WebhookSecretController } from './webhook-secret.controller';

/** The tenants admin API, the tenant's own settings, the webhook-secret routes, the auth guards and the `default` tenant. */
@Module({
  imports: [TenantSecretsModule],
  controllers: [TenantsController, WebhookSecretController, TenantSettingsController],
  providers: [
    TenantsService,
    TenantSettingsService,
    DefaultTenant,
    AdminAuthGuard,
    TenantAuthGuard,
  ],
  exports: [TenantAuthGuard, AdminAuthGuard],
})
export class TenantsModule {}
