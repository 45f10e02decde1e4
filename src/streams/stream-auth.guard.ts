import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { TenantRequest } from '../tenants/authenticated-tenant';
import { TenantAuthGuard } from '../tenants/tenant-auth.guard';
import { StreamGrant, StreamTokens } from './stream-token';

export type StreamRequest = TenantRequest & { streamGrant?: StreamGrant };

/**
 * The stream routes, and only they, take a stream token as `?token=` in place
 * of `Authorization: Bearer`: browsers' `EventSource` cannot send headers.
 * The token's API key must still exist, so deleting a key ends its tokens.
 */
@Injectable()
export class StreamAuthGuard implements CanActivate {
  constructor(
    private readonly tenantAuth: TenantAuthGuard,
    private readonly tokens: StreamTokens,
    private readonly prisma: PrismaService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<StreamRequest>();
    const token = req.query?.token;
    if (token === undefined) return this.tenantAuth.canActivate(context);
    const grant = typeof token === 'string' ? this.tokens.verify(token) : undefined;
    if (!grant) throw new UnauthorizedException('invalid or expired stream token');
    const key = await this.prisma.apiKey.findUnique({
      where: { id: grant.apiKeyId },
      select: { id: true, tenant: { select: { id: true, name: true } } },
    });
    if (!key || key.tenant.id !== grant.tenantId) {
      throw new UnauthorizedException('invalid or expired stream token');
    }
    req.tenant = { id: key.tenant.id, name: key.tenant.name, apiKeyId: key.id };
    req.streamGrant = grant;
    return true;
  }
}
