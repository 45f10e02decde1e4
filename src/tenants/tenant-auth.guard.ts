import {
  CanActivate,
  ExecutionContext,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { bearerTokenHash } from '../common/bearer-token';
import { PrismaService } from '../database/prisma.service';
import { ApiKeyCache, apiKeyCacheOf } from './api-key-cache';
import type { AuthenticatedTenant, TenantRequest } from './authenticated-tenant';

/** `lastUsedAt` is for telling used keys from dead ones: minute precision is plenty. */
const LAST_USED_PRECISION_MS = 60_000;

/**
 * `Authorization: Bearer <API key>`: the key's SHA-256 names at most one key
 * row, and so the tenant. A lookup by hash needs no constant-time compare:
 * the index reveals nothing about keys an attacker does not already hold.
 * Found keys are remembered for API_KEY_CACHE_TTL_MS, so a busy client costs
 * one lookup every few seconds rather than one per request.
 */
@Injectable()
export class TenantAuthGuard implements CanActivate {
  private readonly logger = new Logger(TenantAuthGuard.name);
  private readonly cache: ApiKeyCache;
  /** When this process last wrote each key's `lastUsedAt`. */
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(private readonly prisma: PrismaService) {
    this.cache = apiKeyCacheOf(prisma);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<TenantRequest>();
    // hashed as hashApiKey hashes a key for storage
    const hash = bearerTokenHash(req);
    if (!hash) {
      throw new UnauthorizedException('missing API key: send Authorization: Bearer <API key>');
    }
    const tenant = this.cache.get(hash) ?? (await this.lookUp(hash));
    if (!tenant) throw new UnauthorizedException('invalid API key');
    req.tenant = tenant;
    await this.touch(tenant.apiKeyId);
    return true;
  }

  private async lookUp(hash: string): Promise<AuthenticatedTenant | undefined> {
    const key = await this.prisma.apiKey.findUnique({
      where: { hash },
      select: { id: true, lastUsedAt: true, tenant: { select: { id: true, name: true } } },
    });
    if (!key) return undefined;
    const tenant = { id: key.tenant.id, name: key.tenant.name, apiKeyId: key.id };
    this.cache.set(hash, tenant);
    if (key.lastUsedAt) this.lastUsedWritten.set(key.id, key.lastUsedAt.getTime());
    return tenant;
  }

  /** Records the key's use, once a minute at most; a failed write does not fail the request. */
  private async touch(keyId: string): Promise<void> {
    const now = Date.now();
    const written = this.lastUsedWritten.get(keyId);
    if (written !== undefined && now - written < LAST_USED_PRECISION_MS) return;
    this.lastUsedWritten.set(keyId, now);
    // conditional, so replicas write it once a minute at most too
    await this.prisma.apiKey
      .updateMany({
        where: {
          id: keyId,
          OR: [
            { lastUsedAt: null },
            { lastUsedAt: { lte: new Date(now - LAST_USED_PRECISION_MS) } },
          ],
        },
        data: { lastUsedAt: new Date(now) },
      })
      .catch((error: unknown) =>
        this.logger.warn(`could not record the use of API key ${keyId}: ${String(error)}`),
      );
  }
}
