import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { bearerToken } from '../common/bearer-token';
import { PrismaService } from '../database/prisma.service';
import { hashApiKey } from './api-key';
import type { TenantRequest } from './authenticated-tenant';

/** `lastUsedAt` is for telling used keys from dead ones: minute precision is plenty. */
const LAST_USED_PRECISION_MS = 60_000;

/**
 * `Authorization: Bearer <API key>`: the key's SHA-256 names at most one key
 * row, and so the tenant. A lookup by hash needs no constant-time compare:
 * the index reveals nothing about keys an attacker does not already hold.
 */
@Injectable()
export class TenantAuthGuard implements CanActivate {
  constructor(private readonly prisma: PrismaService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<TenantRequest>();
    const token = bearerToken(req);
    if (!token) {
      throw new UnauthorizedException('missing API key: send Authorization: Bearer <API key>');
    }
    const key = await this.prisma.apiKey.findUnique({
      where: { hash: hashApiKey(token) },
      select: { id: true, lastUsedAt: true, tenant: { select: { id: true, name: true } } },
    });
    if (!key) throw new UnauthorizedException('invalid API key');
    req.tenant = { id: key.tenant.id, name: key.tenant.name, apiKeyId: key.id };

    const now = Date.now();
    if (!key.lastUsedAt || now - key.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS) {
      // conditional, so concurrent requests write it once a minute at most
      await this.prisma.apiKey.updateMany({
        where: {
          id: key.id,
          OR: [
            { lastUsedAt: null },
            { lastUsedAt: { lte: new Date(now - LAST_USED_PRECISION_MS) } },
          ],
        },
        data: { lastUsedAt: new Date(now) },
      });
    }
    return true;
  }
}
