import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { PrismaService } from '../database/prisma.service';
import type { Tenant } from '../generated/prisma/client';
import { checkCallbackUrl } from '../webhooks/callback-url-policy';
import { TenantSettingsDto, UpdateTenantSettingsDto } from './dto/tenant-settings.dto';

/** A tenant's own settings, changed by the tenant itself (the admin API changes credentials). */
@Injectable()
export class TenantSettingsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly config: ConfigService,
  ) {}

  async get(tenantId: string): Promise<TenantSettingsDto> {
    return toSettings(await this.load(tenantId));
  }

  /** `alertUrl` passes the callback URL policy (the same checks, naming `alertUrl`); null removes it. */
  async update(tenantId: string, dto: UpdateTenantSettingsDto): Promise<TenantSettingsDto> {
    if (dto.alertUrl === undefined) return this.get(tenantId);
    if (dto.alertUrl !== null) {
      const verdict = await checkCallbackUrl(dto.alertUrl, {
        allowPrivateNetworks: this.config.env.callbackAllowPrivateNetworks,
      });
      // the policy's messages name the field it usually checks
      if (!verdict.ok)
        throw new BadRequestException([verdict.reason.replace(/^callbackUrl/, 'alertUrl')]);
    }
    const row = await this.prisma.tenant.update({
      where: { id: tenantId },
      data: { alertUrl: dto.alertUrl },
    });
    return toSettings(row);
  }

  private async load(tenantId: string): Promise<Tenant> {
    const row = await this.prisma.tenant.findUnique({ where: { id: tenantId } });
    if (!row) throw new NotFoundException(`tenant ${tenantId} not found`);
    return row;
  }
}

function toSettings(row: Tenant): TenantSettingsDto {
  return {
    id: row.id,
    name: row.name,
    alertUrl: row.alertUrl,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
