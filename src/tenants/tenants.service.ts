import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { newId } from '../common/ids';
import { decodeCursor, Page, PageQueryDto, pageLimit, toPage } from '../common/pagination';
import { PrismaService } from '../database/prisma.service';
import { isUniqueViolation } from '../database/unique-violation';
import { Prisma } from '../generated/prisma/client';
import { generateWebhookSecret } from '../webhooks/webhook-signer';
import { apiKeyPrefix, generateApiKey, hashApiKey } from './api-key';
import { apiKeyCacheOf } from './api-key-cache';
import { CreateTenantDto } from './dto/create-tenant.dto';
import {
  ApiKeyResponseDto,
  CreatedApiKeyDto,
  CreatedTenantDto,
  TenantResponseDto,
} from './dto/tenant-response.dto';
import { UpdateTenantDto } from './dto/update-tenant.dto';
import { TenantSecrets } from './tenant-secrets.service';

type TenantRow = Prisma.TenantGetPayload<{ include: { _count: { select: { apiKeys: true } } } }>;

/** The admin side of tenants: create, list, update credentials, manage API keys. */
@Injectable()
export class TenantsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly secrets: TenantSecrets,
  ) {}

  async create(dto: CreateTenantDto): Promise<CreatedTenantDto> {
    const apiKey = generateApiKey();
    const id = newId('ten');
    try {
      await this.prisma.tenant.create({
        data: {
          id,
          name: dto.name,
          uxcAk: dto.uxcAk,
          uxcSkEnc: this.secrets.seal(dto.uxcSk),
          webhookSecretEnc: this.secrets.seal(generateWebhookSecret()),
          apiKeys: { create: this.apiKeyRow(apiKey) },
        },
      });
    } catch (error) {
      throw this.nameTaken(error, dto.name);
    }
    return { id, name: dto.name, apiKey };
  }

  async list(query: PageQueryDto): Promise<Page<TenantResponseDto>> {
    const limit = pageLimit(query);
    const after = query.cursor ? decodeCursor(query.cursor, { idPrefix: 'ten' }) : undefined;
    const rows = await this.prisma.tenant.findMany({
      where: after ? { id: { gt: after } } : {},
      orderBy: { id: 'asc' },
      take: limit + 1,
      include: { _count: { select: { apiKeys: true } } },
    });
    return toPage(
      rows,
      limit,
      (row) => row.id,
      (row) => this.toResponse(row),
    );
  }

  async get(id: string): Promise<TenantResponseDto> {
    const row = await this.prisma.tenant.findUnique({
      where: { id },
      include: { _count: { select: { apiKeys: true } } },
    });
    if (!row) throw this.notFound(id);
    return this.toResponse(row);
  }

  async update(id: string, dto: UpdateTenantDto): Promise<TenantResponseDto> {
    if (dto.name === undefined && dto.uxcAk === undefined && dto.uxcSk === undefined) {
      throw new BadRequestException(['give at least one of name, uxcAk, uxcSk']);
    }
    await this.mustExist(id);
    try {
      const row = await this.prisma.tenant.update({
        where: { id },
        data: {
          name: dto.name,
          uxcAk: dto.uxcAk,
          uxcSkEnc: dto.uxcSk === undefined ? undefined : this.secrets.seal(dto.uxcSk),
        },
        include: { _count: { select: { apiKeys: true } } },
      });
      return this.toResponse(row);
    } catch (error) {
      throw this.nameTaken(error, dto.name ?? '');
    }
  }

  async createApiKey(tenantId: string): Promise<CreatedApiKeyDto> {
    await this.mustExist(tenantId);
    const apiKey = generateApiKey();
    const row = await this.prisma.apiKey.create({
      data: { ...this.apiKeyRow(apiKey), tenantId },
    });
    return { id: row.id, apiKey };
  }

  async listApiKeys(tenantId: string): Promise<ApiKeyResponseDto[]> {
    await this.mustExist(tenantId);
    const rows = await this.prisma.apiKey.findMany({ where: { tenantId }, orderBy: { id: 'asc' } });
    return rows.map((row) => ({
      id: row.id,
      prefix: row.prefix,
      createdAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
    }));
  }

  async deleteApiKey(tenantId: string, keyId: string): Promise<void> {
    const { count } = await this.prisma.apiKey.deleteMany({ where: { id: keyId, tenantId } });
    // this process stops taking the key at once; other replicas within API_KEY_CACHE_TTL_MS
    apiKeyCacheOf(this.prisma).evict({ apiKeyId: keyId });
    if (count === 0)
      throw new NotFoundException(`API key ${keyId} not found for tenant ${tenantId}`);
  }

  private async mustExist(id: string): Promise<void> {
    const row = await this.prisma.tenant.findUnique({ where: { id }, select: { id: true } });
    if (!row) throw this.notFound(id);
  }

  private apiKeyRow(apiKey: string): { id: string; hash: string; prefix: string } {
    return { id: newId('key'), hash: hashApiKey(apiKey), prefix: apiKeyPrefix(apiKey) };
  }

  private toResponse(row: TenantRow): TenantResponseDto {
    return {
      id: row.id,
      name: row.name,
      uxcAk: row.uxcAk,
      apiKeys: row._count.apiKeys,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  private notFound(id: string): NotFoundException {
    return new NotFoundException(`tenant ${id} not found`);
  }

  private nameTaken(error: unknown, name: string): unknown {
    if (isUniqueViolation(error)) {
      return new ConflictException(`name: a tenant named "${name}" already exists`);
    }
    return error;
  }
}
